/* soak — load, soak and fault tests of a real mnv2d (scripts/soak.sh runs it; see
 * tests/soak/README.md for every check and the behaviour each fault must show).
 *
 * Modules:
 *  - soak.c     arguments, the daemon's environment, the phases, the summary table;
 *  - catalog.c  the valid requests (synthetic and real models, raw and encoded images) and
 *               their reference answers, each computed alone before the load starts;
 *  - clients.c  the client threads: valid (pipelined, answers compared), invalid (every
 *               kind of bad input, answers checked), killed mid-request (forked children
 *               SIGKILLed), and clients that stop reading;
 *  - faults.c   the fault scenarios and the service-manager (notify) listener;
 *  - util.c     time, /proc readings, small socket helpers, failure reporting.
 * Everything is bounded: every socket operation has a timeout, every loop an end time. */
#ifndef SOAK_H
#define SOAK_H

#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SOAK_MAX_CATALOG 64
#define SOAK_MAX_MODELS 16
#define SOAK_WEDGE_MS 3000        /* the test hook holds a request to "wedge" this long */
#define SOAK_WATCHDOG_USEC 2000000 /* WATCHDOG_USEC given to the daemon */
#define SOAK_REPLY_MS 30000       /* a valid request unanswered this long is lost */
/* Classify/Detect a valid client pipelines at most (then a Status or ListModels, maybe);
 * also the daemon's max_inflight_per_connection, so that the quota is met at its edge */
#define SOAK_PIPELINE 4

/* ---- util ---- */
int64_t soak_now_ms(void);
void soak_sleep_ms(int64_t ms);
/* Failures: counted and printed (at most the first 50 of them in full). */
void soak_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned soak_failures(void);
void soak_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
long soak_rss_kb(int pid);
int soak_vmsize_kb(int pid, long *kb);
uint32_t soak_rand(uint32_t *state);
int soak_write_file(const char *path, const void *data, size_t len);
uint8_t *soak_read_file(const char *path, size_t *len);
/* Sends one request on a fresh connection and waits (timeout_ms) for its answer. */
Mnv2__Response *soak_roundtrip(const char *sock, const Mnv2__Request *r, int timeout_ms);
/* Status on a fresh connection: generation, or -1. */
long long soak_generation(const char *sock);
/* Reload request on a fresh connection: the response (caller frees), NULL if none. */
Mnv2__Response *soak_reload(const char *sock);

/* ---- catalog ---- */
typedef struct soak_entry {
	char name[64];             /* for messages: "cls/gradient.png" */
	int detect;
	char model[72];
	int encoded;               /* encoded bytes, else a raw frame */
	Mnv2__PixelFormat format;
	uint32_t width, height;
	const uint8_t *data;       /* borrowed from the catalog's images */
	size_t len;
	uint32_t top_k;
	Mnv2__ResizeMode resize;
	uint8_t *ref;              /* packed ClassifyResult / DetectResult of the answer alone */
	size_t ref_len;
	int real;                  /* a real model (../shared) */
} soak_entry;

typedef struct soak_catalog {
	soak_entry e[SOAK_MAX_CATALOG];
	size_t n;
	uint8_t *images[SOAK_MAX_CATALOG];   /* owned */
	size_t n_images;
	uint8_t *png, *jpeg;                 /* a good PNG and JPEG for corruption */
	size_t png_len, jpeg_len;
	size_t n_real;
} soak_catalog;

/* Builds the requests: for the synthetic models always, for the real ones when
 * real_dir names a directory holding them (labels next to them or not). */
int soak_catalog_build(soak_catalog *c, const char *real_dir, const char *images_dir);
/* Computes every entry's reference alone on a fresh connection; an entry whose format the
 * server does not know (YUV before it was supported) is dropped, any other failure fails. */
int soak_catalog_reference(soak_catalog *c, const char *sock);
void soak_catalog_free(soak_catalog *c);
/* A request for entry i into q (data borrowed). */
void soak_entry_request(const soak_entry *e, td_image_req *q, uint64_t id);
/* 1 when the response is OK and its result equals the reference byte for byte. */
int soak_entry_check(const soak_entry *e, const Mnv2__Response *r, char *why, size_t len);

/* ---- clients ---- */
typedef struct soak_counts {
	atomic_ullong valid_sent, valid_ok, valid_wrong, valid_lost, valid_retried;
	atomic_ullong other_ok;            /* Status / ListModels answered by valid clients */
	atomic_ullong connects, connect_refused;
	atomic_ullong bad_tried[16], bad_unexpected;
	atomic_ullong killed, slow_readers, slow_disconnected;
	atomic_ullong responses;           /* every response read */
} soak_counts;

/* Bad input kinds (bad_tried index). */
enum {
	BAD_GARBAGE, BAD_TRUNCATED, BAD_OVERSIZED, BAD_CORRUPT_PNG, BAD_CORRUPT_JPEG,
	BAD_NOT_IMAGE, BAD_UNKNOWN_MODEL, BAD_WRONG_KIND, BAD_VERSION, BAD_RAW_SHORT,
	BAD_HUGE_PNG, BAD_NO_BODY, BAD_BAD_OPTION, BAD_KINDS
};
extern const char *const soak_bad_names[BAD_KINDS];

typedef struct soak_load {
	const char *sock;
	const soak_catalog *cat;
	int clients;
	int64_t end_ms;                    /* the threads stop by themselves then */
	atomic_int stop;
	atomic_int pause;                  /* clients send nothing new while set */
	atomic_int sock_gone;              /* fault: new connections are expected to fail */
	soak_counts n;
	pthread_t *threads;
	int started;
	void *priv;                        /* the client threads' state */
} soak_load;

int soak_load_start(soak_load *l);
void soak_load_join(soak_load *l);

/* ---- faults ---- */
typedef struct soak_env {
	td_env td;
	char run_dir[160];                 /* holds the socket (the socket-directory fault) */
	char notify_path[192];
	char base_config[8192];            /* the configuration YAML as first written */
	const char *real_dir;
	int threads;
} soak_env;

/* The catalog, for the faults' "still serves the same answers" checks (set by soak.c). */
extern const soak_catalog *soak_cat;

typedef struct soak_notify soak_notify;
soak_notify *soak_notify_start(const char *path);
void soak_notify_stop(soak_notify *n);

typedef struct soak_fault_result {
	char name[48];
	int ok;
	char detail[400];
} soak_fault_result;

#define SOAK_FAULTS 7
/* Runs during the load (the daemon serving the clients): */
void soak_fault_garbage_model(soak_env *e, soak_fault_result *r);
void soak_fault_config_deleted(soak_env *e, soak_fault_result *r);
void soak_fault_rlimit_reload(soak_env *e, soak_fault_result *r);
void soak_fault_wedge(soak_env *e, soak_notify *n, const soak_load *l, const soak_catalog *cat,
		      soak_fault_result *r);
/* After the load: */
void soak_fault_rlimit_start(soak_env *e, const char *mnv2d, soak_fault_result *r);
void soak_fault_socket_dir(soak_env *e, soak_load *l, soak_fault_result *r);
void soak_fault_restart(soak_env *e, const soak_catalog *cat, soak_fault_result *r);

#endif
