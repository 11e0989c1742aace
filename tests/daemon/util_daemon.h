/*
 * Test helpers for gpuvmd: an in-process daemon served by a thread of the
 * test (so everything, sanitizers included, runs in one program), raw
 * client connections with bounded reads, and child-process helpers.
 * Every wait is bounded by T_TIMEOUT_MS: a broken daemon fails a test,
 * never hangs it.
 */
#ifndef TESTS_DAEMON_UTIL_H
#define TESTS_DAEMON_UTIL_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "daemon.h"

#define T_TIMEOUT_MS 10000
#define T_MIB (UINT64_C(1) << 20)
/*
 * gpusim VRAM of the test daemon: the core keeps 64 MiB for itself, which
 * leaves room for one default-sized (256 MiB) vGPU and some small ones.
 */
#define T_GPU_SPEC "sim,vram=512M"
#define T_FREE_VRAM (448 * T_MIB)

/* A fresh private directory under $TMPDIR (or /tmp); path in dir (>= 64 bytes). */
void t_mkdtemp(char *dir, size_t len);
/* rm -r of what the tests create there (files and sockets, one level). */
void t_rmdir(const char *dir);

struct tdaemon {
	char dir[64];
	char sock[128];
	char pidfile[128];
	struct gpuvmd *d;
	pthread_t thread;
	bool running;
	int run_ret;
};

/*
 * Create a daemon on a new temp dir (socket dir/gpuvmd.sock, pidfile
 * dir/gpuvmd.pid) with backend "none" and start its loop on a thread.
 * cfg_edit may change the config before creation (NULL: defaults).
 */
struct tdaemon *td_start(void (*cfg_edit)(struct gpuvmd_config *cfg, void *arg), void *arg);
/* Ask the loop to stop and join it (the daemon is shut down, not freed). */
void td_stop(struct tdaemon *t);
/* td_stop if needed, destroy the daemon, remove the temp dir. */
void td_free(struct tdaemon *t);

/* A raw client connection with its own read buffer. */
struct tconn {
	int fd;
	size_t len;
	char buf[256 << 10];
};

struct tconn *tc_open(const char *sock);
void tc_close(struct tconn *c);
void tc_send(struct tconn *c, const char *data, size_t len);
void tc_send_str(struct tconn *c, const char *s);
/* Next line (malloc'ed, no newline), or NULL on EOF or after timeout_ms. */
char *tc_line(struct tconn *c, int timeout_ms);
/* True if the daemon closes the connection within timeout_ms (after any replies). */
bool tc_closed(struct tconn *c, int timeout_ms);

/* Send one request line on conn, parse the reply (which must be JSON with "ok"). */
struct json_object *tc_call(struct tconn *c, const char *request);
/* Same on a fresh connection. */
struct json_object *td_call(struct tdaemon *t, const char *request);
/* The call must succeed; returns the reply (caller puts). */
struct json_object *td_ok(struct tdaemon *t, const char *request);
/* The call must fail with an error containing want. */
void td_err(struct tdaemon *t, const char *request, const char *want);
/* The observable state: the list reply's vgpus and host objects, as text (free it). */
char *td_state(struct tdaemon *t);

/* Wait for a child (or, with a subreaper, a grandchild) at most timeout_ms; -1 on timeout. */
int t_wait_pid(pid_t pid, int timeout_ms);
/* Read fd to EOF (bounded); malloc'ed NUL-terminated text. */
char *t_read_all(int fd, int timeout_ms);

/* Run fn with stdout and stderr captured into *out and *err (malloc'ed). */
int t_capture(int (*fn)(void *arg), void *arg, char **out, char **err);

#endif
