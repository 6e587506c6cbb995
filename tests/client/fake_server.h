/* fake_server — a scripted stand-in for mnv2d in the client tests.
 *
 * A server is a thread running a script function on one connected socket (a socketpair
 * end, or connections accepted on a temporary Unix socket path). Helpers read request
 * frames and write responses or arbitrary bytes with blocking I/O; canned_response()
 * builds a deterministic OK answer for any request so tests can check what the client
 * decoded. The script owns its fd only for the call: the harness closes it afterwards. */
#ifndef MNV2_TEST_FAKE_SERVER_H
#define MNV2_TEST_FAKE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "mnv2.pb-c.h"

typedef void (*fs_script)(int fd, void *arg);

typedef struct fake_server fake_server;

/* Socketpair: *client_fd receives the client's end. */
fake_server *fs_start_pair(fs_script script, void *arg, int *client_fd);
/* Listens on a fresh path under /tmp (fs_path()) and runs the script on each of the first
 * `connections` connections, one after the other. */
fake_server *fs_start_listen(fs_script script, void *arg, int connections);
const char *fs_path(const fake_server *s);
/* Waits for the script(s) to finish, closes everything, removes the socket path. */
void fs_join(fake_server *s);

/* Reads one request frame; NULL at EOF or on a broken frame. Free with
 * mnv2__request__free_unpacked(r, NULL). */
Mnv2__Request *fs_read_request(int fd);
/* 0 on success, -1 when the peer went away. */
int fs_write_all(int fd, const void *buf, size_t len);
int fs_write_response(int fd, const Mnv2__Response *r);
/* Writes a 4-byte big-endian length. */
int fs_write_len(int fd, uint32_t len);

/* A deterministic OK response for req, in the caller's storage (see fake_server.c for the
 * exact content: classify echoes the request id, an image checksum and the options). */
typedef struct fs_canned fs_canned;
fs_canned *fs_canned_new(const Mnv2__Request *req);
Mnv2__Response *fs_canned_response(fs_canned *c);
void fs_canned_free(fs_canned *c);
/* Reads until EOF answering each request with the canned response. */
void fs_script_echo(int fd, void *arg);
/* Reads until EOF. */
void fs_drain(int fd);

/* The checksum used in canned classify labels: "len=N sum=S". */
uint32_t fs_checksum(const uint8_t *p, size_t n);

#endif
