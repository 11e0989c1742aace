/*
 * Error codes and messages.  The message of the last failure is kept per
 * thread, so concurrent contexts on different threads do not mix them up.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "nvc0_driver.h"

static __thread char last_error[512];

static const char *const error_names[GPUVM_ERR_COUNT_] = {
	[GPUVM_OK] = "success",
	[GPUVM_ERR_INVALID] = "invalid argument",
	[GPUVM_ERR_BAD_HANDLE] = "bad handle",
	[GPUVM_ERR_NO_HOST_MEMORY] = "out of host memory",
	[GPUVM_ERR_NO_VRAM] = "out of device memory",
	[GPUVM_ERR_NO_RESOURCE] = "out of channels, BAR space or address space",
	[GPUVM_ERR_NO_DEVICE] = "device not available",
	[GPUVM_ERR_UNSUPPORTED] = "not supported",
	[GPUVM_ERR_BUSY] = "device busy with another configuration",
	[GPUVM_ERR_DEVICE] = "device error",
	[GPUVM_ERR_FAULTED] = "channel faulted",
	[GPUVM_ERR_TIMEOUT] = "timeout",
	[GPUVM_ERR_VERIFY] = "verification failed",
};

const char *gpuvm_strerror(int err)
{
	if (err < 0 || err >= GPUVM_ERR_COUNT_)
		return "unknown error";
	return error_names[err];
}

const char *gpuvm_last_error(void)
{
	return last_error;
}

int gpuvm_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

uint64_t gpuvm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *const phase_names[GPUVM_PHASE_COUNT] = {
	[GPUVM_PHASE_INIT] = "init",
	[GPUVM_PHASE_ALLOC] = "alloc",
	[GPUVM_PHASE_HTOD] = "htod",
	[GPUVM_PHASE_LAUNCH_SYNC] = "launch+sync",
	[GPUVM_PHASE_DTOH] = "dtoh",
	[GPUVM_PHASE_CLOSE] = "close",
};

const char *gpuvm_phase_name(enum gpuvm_phase p)
{
	return (unsigned)p < GPUVM_PHASE_COUNT ? phase_names[p] : "?";
}
