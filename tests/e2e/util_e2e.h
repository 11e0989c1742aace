/*
 * End-to-end test helpers: the real gpuvmd, gpuvmctl and gpuvm-run
 * programs (found through $GPUVM_BIN, which `make check` sets), started as
 * child processes of the test.
 *
 *   daemon   gpuvmd --backend local --foreground on a fresh temp dir, in a
 *            process group of its own that every guest of the test joins;
 *            torn down with `shutdown` (its exit status must be 0, so the
 *            sanitizer build also catches leaks) and then SIGKILL to the
 *            whole group, so nothing outlives a test, passed or failed.
 *   control  the JSON protocol spoken directly (info, list, check) and
 *            gpuvmctl itself (create, destroy, reset, check).
 *   guests   gpuvm-run processes, and forked children of the test that run
 *            a function (hostile guests written with the guest library's
 *            raw API).  Forked guests talk to the test over a pair of
 *            pipes, one line per message.
 *
 * Every wait is bounded (E2E_WAIT_MS): a broken daemon or guest fails the
 * test, it never hangs it.  Nothing sleeps to synchronise: the test waits
 * for a process to exit, for a line from a guest, or for a state that the
 * daemon reports.
 */
#ifndef TESTS_E2E_UTIL_H
#define TESTS_E2E_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <json-c/json.h>

#define E2E_MIB          (UINT64_C(1) << 20)
/* The audit oracle counts every GPU access outside a VM's memory; check fails on any. */
#define E2E_GPU_SPEC     "sim,vram=1G,audit=count"
/* Any one wait: a guest's run, a reply, a state change.  Generous (a loaded
 * 2-CPU machine running the sanitizer build), yet a hang still ends. */
#define E2E_WAIT_MS      90000
#define E2E_READY_MS     30000
/* Guest-library wait bound inside forked guests. */
#define E2E_GUEST_TIMEOUT_MS 60000u
#define E2E_MAX_PROCS    32

struct e2e_proc;

struct e2e_daemon {
	char dir[128];
	char sock[192];
	char guest_sock[200];
	char log[192];
	pid_t pid;                  /* gpuvmd; also the process group of every guest */
	int pidfd;
	bool exited;
	int status;
	unsigned runs;              /* numbering of output files */
	struct e2e_proc *procs[E2E_MAX_PROCS];
};

/* $GPUVM_BIN/prog (asserts that GPUVM_BIN is set). */
const char *e2e_bin(const char *prog, char *buf, size_t len);

/* A fresh temp dir and a gpuvmd on it, answering `version`. */
struct e2e_daemon *e2e_start(void);
/* Kill leftover guests, shut gpuvmd down (exit 0 required), remove the dir. */
void e2e_stop(struct e2e_daemon *d);
/* Print the tail of gpuvmd's log (for failure messages). */
void e2e_dump_log(struct e2e_daemon *d);

/* ---- control -------------------------------------------------------------------- */
/* One request (printf format) on a fresh connection; the parsed reply. */
struct json_object *e2e_call(struct e2e_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, and the reply must say ok. */
struct json_object *e2e_ok(struct e2e_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Run gpuvmctl --socket SOCK ARGS... (NULL-terminated): exit status; output in *out and *err. */
int e2e_ctl(struct e2e_daemon *d, char **out, char **err, ...) __attribute__((sentinel));
/* gpuvmctl create NAME --vram NM --channels C, which must succeed. */
void e2e_create(struct e2e_daemon *d, const char *name, unsigned vram_mib, unsigned channels);

struct e2e_info {
	bool attached;
	unsigned channels, channels_bound;
	uint64_t vram_base, vram_size;
	uint64_t mmio_reads, mmio_writes, denied, pte_rejected, reshadows, tlb_flushes;
	uint64_t submissions, faults;
};
void e2e_info(struct e2e_daemon *d, const char *name, struct e2e_info *out);
/* Wait (bounded) until pred holds for the vGPU's info; asserts it does. */
void e2e_wait_info(struct e2e_daemon *d, const char *name,
		   bool (*pred)(const struct e2e_info *in, void *arg), void *arg, const char *what);
/* The guest has gone and the vGPU has been reset. */
void e2e_wait_detached(struct e2e_daemon *d, const char *name);

/*
 * The isolation checker: `gpuvmctl check` must exit 0, and the JSON check
 * reply must say isolated for the host and every vGPU.  If the reply
 * carries gpusim's audit counters (an "audit" object with "violations"),
 * they must be zero.  Returns true when the daemon reported audit counters.
 */
bool e2e_assert_isolated(struct e2e_daemon *d);

/* ---- guest processes ---------------------------------------------------------------- */
struct e2e_io {
	int rd, wr;                 /* from / to the test */
	char spec[256];             /* local:VGPU@SOCKET.guest */
	char name[48];
	char buf[8192];
	size_t len;
};

struct e2e_proc {
	struct e2e_daemon *d;
	char name[48];
	pid_t pid;
	int pidfd;
	int rd, wr;                 /* forked guests: lines from / to the child; else -1 */
	char out_path[256];         /* gpuvm-run: its stdout and stderr */
	char buf[8192];
	size_t len;
	bool reaped;
	int status;
};

/* gpuvm-run WORKLOAD --size SIZE [--iters N] [--ms MS] --device local:VGPU@... */
struct e2e_proc *e2e_run(struct e2e_daemon *d, const char *vgpu, const char *workload,
			 const char *size, unsigned iters, unsigned ms);
/* Fork a guest that runs fn(io, arg) on vGPU vgpu; its return value is the exit status. */
struct e2e_proc *e2e_fork(struct e2e_daemon *d, const char *vgpu, const char *name,
			  int (*fn)(struct e2e_io *io, void *arg), void *arg);
/* Wait for the guest to exit (bounded); its wait status. */
int e2e_wait(struct e2e_proc *p);
/* Wait; the guest must exit with code (its output is printed if not). */
void e2e_expect_exit(struct e2e_proc *p, int code);
/* gpuvm-run's output (malloc'ed). */
char *e2e_output(struct e2e_proc *p);
/* SIGKILL and reap. */
void e2e_kill(struct e2e_proc *p);
/* Next line from a forked guest (malloc'ed, no newline); fails the test on EOF/timeout. */
char *e2e_recv(struct e2e_proc *p);
/* The next line must start with prefix; the rest of it (malloc'ed). */
char *e2e_expect(struct e2e_proc *p, const char *prefix);
void e2e_send(struct e2e_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A gpuvm-run guest must exit 0 and say "verified". */
void e2e_expect_verified(struct e2e_proc *p);

/* ---- inside a forked guest ---------------------------------------------------------- */
void e2e_say(struct e2e_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Next line from the test, valid until the next call; exits the guest on EOF/timeout. */
const char *e2e_hear(struct e2e_io *io);
/* Wait for the line `want` from the test. */
void e2e_hear_exact(struct e2e_io *io, const char *want);
/* A non-blocking look: the line the test sent, or NULL if none is complete yet. */
const char *e2e_heard(struct e2e_io *io);
/* A failed expectation inside a guest: say why on stderr and exit 1. */
void e2e_die(struct e2e_io *io, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
#define E2E_CHECK(io, cond, ...) \
	do { if (!(cond)) e2e_die((io), __FILE__, __LINE__, __VA_ARGS__); } while (0)

#endif
