/* mnv2d — serves MobileNetV2 classification and SSD detection over a Unix socket.
 *
 *   mnv2d [-c CONFIG] [--socket PATH] [-v] [--check-config [CONFIG]] [--version]
 *
 * Runs in the foreground (systemd style) and logs to stderr. Exit status: 0 after a clean
 * shutdown (SIGTERM/SIGINT) or a good --check-config, 1 on a configuration, model or
 * socket error, 2 on a usage error. */
#include "access.h"
#include "activation.h"
#include "budget.h"
#include "log.h"
#include "models.h"
#include "mnv2/config.h"
#include "notify.h"
#include "server.h"
#include "sock.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MNV2D_VERSION
#define MNV2D_VERSION "unknown"
#endif
#ifndef MNV2D_DEFAULT_CONFIG
#define MNV2D_DEFAULT_CONFIG "/etc/mnv2d/mnv2d.yaml"
#endif

#define ERR_LEN 1024
#define SHUTDOWN_FLUSH_MS 5000
#define TEST_WEDGE_MAX_MS 600000

_Static_assert(MNV2_CONFIG_MAX_IDS <= MNV2D_ACCESS_MAX_IDS, "allow lists must fit");

/* What the process got from its service manager (or the test hooks) at start-up. */
typedef struct service {
	mnv2d_notify notify;
	int listen_fd;             /* socket activation: the listening socket; -1 none */
	char listen_name[64];      /* its LISTEN_FDNAMES name */
	unsigned test_wedge_ms;
	const char *test_wedge_model;   /* NULL: every model */
} service;

typedef struct args {
	const char *config;
	const char *socket;
	int check, verbose;
} args;

static void usage(FILE *f)
{
	fprintf(f, "usage: mnv2d [-c CONFIG] [--socket PATH] [-v] [--check-config [CONFIG]] "
		   "[--version]\n"
		   "  -c, --config FILE   configuration (default " MNV2D_DEFAULT_CONFIG ")\n"
		   "  --socket PATH       listen here instead of the configured socket path\n"
		   "  -v, --verbose       log at debug level\n"
		   "  --check-config      load the configuration and its models, then exit\n"
		   "  --version           print the version and exit\n");
}

/* 0 to go on, 1 done (exit 0), -1 usage error. */
static int parse_args(int argc, char **argv, args *a)
{
	enum { OPT_SOCKET = 256, OPT_CHECK, OPT_VERSION };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*a = (args){ .config = MNV2D_DEFAULT_CONFIG };
	int c;
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case OPT_SOCKET: a->socket = optarg; break;
		case 'v': a->verbose = 1; break;
		case OPT_CHECK: a->check = 1; break;
		case OPT_VERSION: printf("mnv2d %s\n", MNV2D_VERSION); return 1;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (a->check && optind == argc - 1)   /* --check-config FILE */
		a->config = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "mnv2d: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static void log_models(const mnv2d_log *lg, const mnv2d_modelset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const mnv2d_model *m = &set->models[i];
		LOG_INFO(lg, "model '%s': %s %dx%d, %.1f M MACs, %.2f MB parameters, %.2f MB "
			 "arena, %zu labels, loaded in %.1f ms (%s)", m->name,
			 mnv2_task_name(m->kind), (int)m->input.dims[2], (int)m->input.dims[1],
			 (double)mnv2_model_macs(m->model) / 1e6,
			 (double)mnv2_model_param_bytes(m->model) / 1e6,
			 (double)mnv2_model_arena_bytes(m->model) / 1e6,
			 mnv2d_model_num_labels(m), (double)m->load_us / 1000.0, m->path);
	}
}

static int check_config(const mnv2_config *cfg, char *err)
{
	mnv2d_modelset *set = mnv2d_modelset_load(cfg, 0, 0, 0, err, ERR_LEN);
	if (!set) {
		fprintf(stderr, "mnv2d: %s: %s\n", cfg->path, err);
		return 1;
	}
	printf("%s: OK, %zu model%s:", cfg->path, set->n, set->n == 1 ? "" : "s");
	for (size_t i = 0; i < set->n; i++)
		printf(" %s (%s)", set->models[i].name, mnv2_task_name(set->models[i].kind));
	printf("\n");
	mnv2d_modelset_unref(set);
	return 0;
}

static void access_from_config(const mnv2_config *cfg, mnv2d_access *a)
{
	*a = (mnv2d_access){ .explicit_lists = cfg->allow_ids_set, .self_uid = geteuid() };
	a->n_uids = cfg->n_allow_uids;
	memcpy(a->uids, cfg->allow_uids, cfg->n_allow_uids * sizeof a->uids[0]);
	a->n_gids = cfg->n_allow_gids;
	memcpy(a->gids, cfg->allow_gids, cfg->n_allow_gids * sizeof a->gids[0]);
}

/* max_inflight_per_connection as the server applies it (0: no limit). auto: a quarter of
 * the queue (rounded up), so that no one connection can fill it; but at least two per
 * worker, so that a client alone keeps every worker busy with its next request waiting. */
static unsigned inflight_limit(int configured, int queue_depth, int threads)
{
	if (configured != MNV2_CONFIG_INFLIGHT_AUTO)
		return (unsigned)configured;
	unsigned quarter = ((unsigned)queue_depth + 3) / 4, per_worker = 2u * (unsigned)threads;
	return quarter > per_worker ? quarter : per_worker;
}

/* Hot reload (on the server's reload thread): the same file again, the new model set for
 * the same workers. Settings that shape the running process keep their start-up values
 * until a restart; a change to one is logged. */
typedef struct reloader_ctx {
	const char *config_path;
	const mnv2_config *boot;
	int verbose;
	mnv2d_log *log;
} reloader_ctx;

static int differs(const char *a, const char *b)
{
	return (a || b) && (!a || !b || strcmp(a, b));
}

static void fixed_settings(const reloader_ctx *r, const mnv2_config *c)
{
	const mnv2_config *b = r->boot;
	const char *changed[8];
	int n = 0;
	if (differs(b->socket_path, c->socket_path))
		changed[n++] = "socket";
	if (b->socket_mode != c->socket_mode || differs(b->socket_group, c->socket_group))
		changed[n++] = "socket_mode/socket_group";
	if (b->threads != c->threads)
		changed[n++] = "threads";
	if (b->queue_depth != c->queue_depth)
		changed[n++] = "queue_depth";
	if (b->max_frame_bytes != c->max_frame_bytes)
		changed[n++] = "max_frame_bytes";
	if (b->max_image_pixels != c->max_image_pixels)
		changed[n++] = "max_image_pixels";
	for (int i = 0; i < n; i++)
		LOG_WARN(r->log, "reload: %s changed; it takes effect at the next restart",
			 changed[i]);
}

/* Workers and intra-op threads within one CPU budget (budget.h); warns about adjustments. */
static mnv2d_budget plan_budget(const mnv2_config *cfg, int workers, mnv2d_log *lg)
{
	mnv2d_budget b;
	char note[512];
	if (mnv2d_budget_plan(mnv2d_budget_cpus(), (unsigned)cfg->cpu_budget, (unsigned)workers,
			      (unsigned)cfg->intra_op_threads, &b, note, sizeof note))
		LOG_WARN(lg, "%s", note);
	return b;
}

static void reload(void *arg, uint64_t generation, mnv2d_reload_result *out)
{
	const reloader_ctx *r = arg;
	mnv2_config cfg;
	if (mnv2_config_load(r->config_path, &cfg, out->err, sizeof out->err))
		return;
	mnv2d_level level = MNV2D_LOG_INFO;
	if (cfg.log_level && mnv2d_log_parse_level(cfg.log_level, &level)) {
		snprintf(out->err, sizeof out->err, "%s: unknown log_level '%s'", r->config_path,
			 cfg.log_level);
		mnv2_config_free(&cfg);
		return;
	}
	fixed_settings(r, &cfg);
	mnv2d_budget b = plan_budget(&cfg, r->boot->threads, r->log);
	out->set = mnv2d_modelset_load(&cfg, (size_t)r->boot->threads, b.intra, generation,
				       out->err, sizeof out->err);
	out->default_deadline_ms = cfg.default_deadline_ms;
	out->max_output_bytes = cfg.max_output_bytes;
	out->max_connections = (unsigned)cfg.max_connections;
	/* auto follows the running queue and workers, which a reload does not change */
	out->max_inflight_per_connection = inflight_limit(cfg.max_inflight_per_connection,
							  r->boot->queue_depth, r->boot->threads);
	out->log_level = r->verbose ? MNV2D_LOG_DEBUG : level;
	access_from_config(&cfg, &out->access);
	mnv2_config_free(&cfg);
}

/* The listening socket: the one systemd passed, or our own at path. */
static int open_socket(const mnv2_config *cfg, const char *path, const service *svc,
		       mnv2d_sock *sock, mnv2d_log *lg, char *err)
{
	if (svc->listen_fd < 0) {
		if (mnv2d_sock_listen(sock, path, cfg->socket_mode, cfg->socket_group, err, ERR_LEN))
			return -1;
		if (sock->replaced_stale)
			LOG_INFO(lg, "replaced the stale socket %s", path);
		return 0;
	}
	if (mnv2d_sock_adopt(sock, svc->listen_fd, err, ERR_LEN))
		return -1;
	LOG_INFO(lg, "socket activation: using the listening socket %s%s%s%s (its mode and "
		 "group are the socket unit's)", sock->path[0] ? sock->path : "(unnamed)",
		 svc->listen_name[0] ? " (" : "", svc->listen_name,
		 svc->listen_name[0] ? ")" : "");
	if (strcmp(sock->path, path))
		LOG_WARN(lg, "the configured socket %s is not used: the service manager passed "
			 "%s", path, sock->path[0] ? sock->path : "an unnamed socket");
	return 0;
}

static int serve(const mnv2_config *cfg, const char *path, const reloader_ctx *rc_ctx,
		 mnv2d_log *lg, const service *svc, char *err)
{
	const mnv2d_notify *nt = &svc->notify;
	mnv2d_notify_sendf(nt, "STATUS=loading %zu model%s from %s", cfg->n_models,
			   cfg->n_models == 1 ? "" : "s", cfg->path);
	mnv2d_budget budget = plan_budget(cfg, cfg->threads, lg);
	mnv2d_modelset *set = mnv2d_modelset_load(cfg, (size_t)cfg->threads, budget.intra, 1, err,
						  ERR_LEN);
	if (!set) {
		LOG_ERR(lg, "%s", err);
		mnv2d_notify_sendf(nt, "STATUS=failed to start: %s", err);
		return 1;
	}
	log_models(lg, set);
	/* Clients may connect as soon as the socket listens: hold the stop signals until the
	 * loop has its handlers for them, then let any that came in be delivered there. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	mnv2d_sock sock;
	if (open_socket(cfg, path, svc, &sock, lg, err)) {
		LOG_ERR(lg, "%s", err);
		mnv2d_notify_sendf(nt, "STATUS=failed to start: %s", err);
		mnv2d_modelset_unref(set);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	mnv2d_server_opts o = {
		.version = MNV2D_VERSION,
		.threads = (unsigned)cfg->threads,
		.cpu_budget = budget.cpus,
		.queue_depth = (size_t)cfg->queue_depth,
		.max_frame_bytes = cfg->max_frame_bytes,
		.max_output_bytes = cfg->max_output_bytes,
		.max_connections = (unsigned)cfg->max_connections,
		.max_inflight_per_connection = inflight_limit(cfg->max_inflight_per_connection,
							      cfg->queue_depth, cfg->threads),
		.default_deadline_ms = cfg->default_deadline_ms,
		.max_image_pixels = cfg->max_image_pixels,
		.shutdown_flush_ms = SHUTDOWN_FLUSH_MS,
		.reload = reload,
		.reload_arg = (void *)rc_ctx,
		.notify = nt,
		.watchdog_ms = cfg->watchdog_ms,
		.test_wedge_ms = svc->test_wedge_ms,
		.test_wedge_model = svc->test_wedge_model,
	};
	access_from_config(cfg, &o.access);
	o.access.sock_gid = sock.gid;
	o.access.sock_gid_known = sock.gid_known;
	mnv2d_server *srv = mnv2d_server_new(&o, set, &sock, lg, err, ERR_LEN);
	mnv2d_modelset_unref(set);   /* the server holds its own reference */
	sigprocmask(SIG_SETMASK, &old, NULL);
	int rc = 1;
	if (!srv) {
		LOG_ERR(lg, "%s", err);
	} else {
		LOG_INFO(lg, "mnv2d %s listening on %s: %d workers x %u intra-op thread%s (CPU "
			 "budget %u), queue of %d (%u per connection; 0: no limit), %zu models%s",
			 MNV2D_VERSION, sock.path, cfg->threads, budget.intra,
			 budget.intra == 1 ? "" : "s", budget.cpus, cfg->queue_depth,
			 o.max_inflight_per_connection, cfg->n_models,
			 nt->watchdog_usec ? ", systemd watchdog on" : "");
		rc = mnv2d_server_run(srv) ? 1 : 0;
		mnv2d_server_free(srv);
		if (!rc)
			LOG_INFO(lg, "stopped");
	}
	mnv2d_sock_remove(&sock);
	mnv2d_sock_close(&sock);
	return rc;
}

/* MNV2D_TEST_WEDGE_MS and MNV2D_TEST_WEDGE_MODEL (only with MNV2D_TEST_HOOKS=1): see
 * pool.h. Never for service. */
static unsigned test_wedge_ms(const mnv2d_log *lg, const char **model)
{
	const char *hooks = getenv("MNV2D_TEST_HOOKS"), *v = getenv("MNV2D_TEST_WEDGE_MS");
	if (!v)
		return 0;
	if (!hooks || strcmp(hooks, "1")) {
		LOG_WARN(lg, "MNV2D_TEST_WEDGE_MS is ignored: test hooks need MNV2D_TEST_HOOKS=1");
		return 0;
	}
	char *end;
	unsigned long ms = strtoul(v, &end, 10);
	if (!*v || *end || ms < 1 || ms > TEST_WEDGE_MAX_MS) {
		LOG_WARN(lg, "MNV2D_TEST_WEDGE_MS='%s' is not 1..%d; ignored", v, TEST_WEDGE_MAX_MS);
		return 0;
	}
	const char *m = getenv("MNV2D_TEST_WEDGE_MODEL");
	*model = m && *m ? m : NULL;
	LOG_WARN(lg, "TEST HOOK: every request%s%s%s holds its worker %lu ms before it runs "
		 "(MNV2D_TEST_WEDGE_MS); never set this in service", *model ? " to model '" : "",
		 *model ? *model : "", *model ? "'" : "", ms);
	return (unsigned)ms;
}

/* The service manager's environment: notify socket, watchdog, activation socket. */
static int service_init(service *svc, const mnv2d_log *lg, char *err)
{
	*svc = (service){ .listen_fd = -1 };
	if (mnv2d_notify_init(&svc->notify, err, ERR_LEN))
		LOG_WARN(lg, "%s", err);
	int rc = mnv2d_activation_take(&svc->listen_fd, svc->listen_name,
				       sizeof svc->listen_name, err, ERR_LEN);
	if (rc < 0) {
		LOG_ERR(lg, "%s", err);
		mnv2d_notify_sendf(&svc->notify, "STATUS=failed to start: %s", err);
		return -1;
	}
	svc->test_wedge_ms = test_wedge_ms(lg, &svc->test_wedge_model);
	return 0;
}

int main(int argc, char **argv)
{
	args a;
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc > 0 ? 0 : 2;
	char err[ERR_LEN];
	mnv2_config cfg;
	if (mnv2_config_load(a.config, &cfg, err, sizeof err)) {
		fprintf(stderr, "mnv2d: %s\n", err);
		return 1;
	}
	if (a.check) {
		rc = check_config(&cfg, err);
		mnv2_config_free(&cfg);
		return rc;
	}
	mnv2d_level level = MNV2D_LOG_INFO;
	if (cfg.log_level && mnv2d_log_parse_level(cfg.log_level, &level)) {
		fprintf(stderr, "mnv2d: %s: unknown log_level '%s'\n", a.config, cfg.log_level);
		mnv2_config_free(&cfg);
		return 1;
	}
	mnv2d_log lg;
	mnv2d_log_init(&lg, STDERR_FILENO, a.verbose ? MNV2D_LOG_DEBUG : level);
	/* a client that goes away must not kill the daemon through a write */
	signal(SIGPIPE, SIG_IGN);
	reloader_ctx rctx = { .config_path = a.config, .boot = &cfg, .verbose = a.verbose,
			      .log = &lg };
	service svc;
	rc = service_init(&svc, &lg, err) ? 1
	     : serve(&cfg, a.socket ? a.socket : cfg.socket_path, &rctx, &lg, &svc, err);
	mnv2d_notify_close(&svc.notify);
	mnv2_config_free(&cfg);
	return rc;
}
