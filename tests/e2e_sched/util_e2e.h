/*
 * End-to-end scheduling tests: the real gpuvmd and gpuvm-run from
 * $GPUVM_BIN (make check sets it), each guest a process of its own.
 * Every wait is bounded; whatever a test starts is stopped by e2e_stop(),
 * also when it fails (children get SIGTERM when the test process dies).
 */
#ifndef TESTS_E2E_SCHED_UTIL_H
#define TESTS_E2E_SCHED_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <json-c/json.h>

#define E2E_MAX_GUESTS 8

struct e2e {
	char bin[1024];
	char dir[128];
	char sock[192];
	pid_t daemon;
	pid_t guest[E2E_MAX_GUESTS];
	unsigned nguests;
	int fd;                     /* control connection */
};

/* The directory of gpuvmd and gpuvm-run, or NULL (then the test is skipped). */
const char *e2e_bin_dir(void);
/* Start gpuvmd (backend local) with extra options (NULL-terminated), connected. */
void e2e_start(struct e2e *e, const char *const *opts);
/* One request (a JSON line without newline); the ok reply (caller puts). */
struct json_object *e2e_ok(struct e2e *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * gpuvm-run busy --ms MS on vGPU name, with more kernels than a test
 * needs (one run, so the VM never runs dry between runs); e2e_stop()
 * stops it.
 */
void e2e_guest_busy(struct e2e *e, const char *name, unsigned ms);
/* gpu_ns of each vGPU in names[0..n) from one stats reply; also the scheduler's uptime. */
void e2e_gpu_ns(struct e2e *e, const char *const *names, unsigned n, uint64_t *gpu_ns,
		uint64_t *uptime_ns);
/*
 * Wait (at most timeout_ms) until every vGPU in names has run E2E_STARTED_NS
 * of GPU time: its guest is past its set-up and runs its kernels.  Set-up
 * is thousands of trapped MMIO accesses, seconds on a loaded machine.
 */
#define E2E_STARTED_NS 20000000ull
void e2e_wait_charged(struct e2e *e, const char *const *names, unsigned n, int timeout_ms);
void e2e_sleep_ms(unsigned ms);
/* Stop the guests, shut gpuvmd down (it must exit 0), remove the temp dir. */
void e2e_stop(struct e2e *e);

#endif
