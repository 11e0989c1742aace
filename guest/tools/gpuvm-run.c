/*
 * gpuvm-run: run one libgpuvm-guest workload on any device.
 *
 *   gpuvm-run WORKLOAD [--size N] [--iters K] [--device SPEC] [--ms MS] [--seconds S]
 *             [--timing]
 *
 * Exit codes: 0 verified, 1 verification failed or the run failed,
 * 2 bad command line (including a malformed --device spec).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuvm_guest.h"
#include "gpuvm_transport.h"
#include "gpuvm_workloads.h"

#define EXIT_USAGE 2

struct run_args {
	const struct gpuvm_workload *wl;
	struct gpuvm_workload_params params;
	const char *device;
	bool timing;
	double seconds;         /* run the workload again until this much time has passed */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gpuvm-run WORKLOAD [options]\n"
		"\n"
		"Run a GPGPU workload through libgpuvm-guest and check its result on the host.\n"
		"\n"
		"Options:\n"
		"  --size N        problem size (see below; K/M/G suffixes allowed)\n"
		"  --iters K       repetitions of the measured part (default 1)\n"
		"  --device SPEC   native[:vram=SIZE] | local:NAME | pci:BDF\n"
		"                  (default: $GPUVM_DEVICE, else native)\n"
		"  --ms MS         busy: kernel duration in milliseconds (default 100)\n"
		"  --seconds S     run the workload again and again, on one device context,\n"
		"                  until S seconds have passed (each run checks its result)\n"
		"  --timing        also print the time spent per runtime phase\n"
		"  -h, --help      this help\n"
		"\n"
		"Workloads:\n");
	for (unsigned i = 0; gpuvm_workload_at(i); i++) {
		const struct gpuvm_workload *w = gpuvm_workload_at(i);

		fprintf(out, "  %-7s %s\n          size = %s, default %" PRIu64 "\n", w->name,
			w->summary, w->size_meaning, w->default_size);
	}
	fprintf(out, "\nExit status: 0 verified, 1 failed or wrong result, 2 bad usage.\n");
}

/* Decimal with an optional K/M/G suffix; false on junk, zero or overflow. */
static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return false;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	}
	if (*end || v == 0 || v > max / mul)
		return false;
	*out = v * mul;
	return true;
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "gpuvm-run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'gpuvm-run --help'.\n");
	return EXIT_USAGE;
}

/* 0 to run, EXIT_USAGE on bad flags, -1 when --help was printed. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'i' },
		{ "device", required_argument, NULL, 'd' },
		{ "ms", required_argument, NULL, 'm' },
		{ "timing", no_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_count(optarg, UINT64_MAX, &a->params.size))
				return bad_usage("bad --size '%s' (a positive count)", optarg);
			break;
		case 'i':
			if (!parse_count(optarg, 1000000, &v))
				return bad_usage("bad --iters '%s' (1..1000000)", optarg);
			a->params.iters = (unsigned)v;
			break;
		case 'm':
			if (!parse_count(optarg, 86400000, &v))
				return bad_usage("bad --ms '%s' (1..86400000)", optarg);
			a->params.ms = (unsigned)v;
			break;
		case 'd':
			a->device = optarg;
			break;
		case 't':
			a->timing = true;
			break;
		case 'S': {
			char *end;

			errno = 0;
			a->seconds = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(a->seconds > 0) || a->seconds > 86400)
				return bad_usage("bad --seconds '%s' (0 < S <= 86400)", optarg);
			break;
		}
		case 'h':
			usage(stdout);
			return -1;
		default:
			return bad_usage("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("%s", "no workload given");
	if (optind + 1 < argc)
		return bad_usage("unexpected argument '%s'", argv[optind + 1]);
	a->wl = gpuvm_workload_find(argv[optind]);
	if (!a->wl)
		return bad_usage("%s", gpuvm_last_error());
	if (a->params.ms && strcmp(a->wl->name, "busy"))
		return bad_usage("--ms applies to the busy workload only, not '%s'", a->wl->name);
	return 0;
}

static void print_timing(const struct gpuvm_timing *t)
{
	printf("phases:");
	for (unsigned p = 0; p < GPUVM_PHASE_COUNT; p++)
		printf(" %s %.3f ms%s", gpuvm_phase_name((enum gpuvm_phase)p), t->ns[p] / 1e6,
		       p + 1 < GPUVM_PHASE_COUNT ? "," : "\n");
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The workload once, or with --seconds until the time is up; stops at a failure. */
static int run_repeated(const struct run_args *a, struct gpuvm_ctx *ctx,
			struct gpuvm_workload_result *res, unsigned *runs)
{
	double t0 = seconds_now();
	int err;

	do {
		*res = (struct gpuvm_workload_result){ 0 };
		err = a->wl->run(ctx, &a->params, res);
		++*runs;
	} while (!err && a->seconds > 0 && seconds_now() - t0 < a->seconds);
	return err;
}

static int run(const struct run_args *a)
{
	struct gpuvm_timing timing = { 0 };
	struct gpuvm_ctx_options opts = { .timing = &timing };
	struct gpuvm_workload_result res = { 0 };
	struct gpuvm_ctx *ctx;
	double t0 = seconds_now();
	unsigned runs = 0;
	int err = gpuvm_ctx_open(a->device, &opts, &ctx);

	if (err) {
		fprintf(stderr, "gpuvm-run: cannot open device '%s': %s\n",
			a->device ? a->device : gpuvm_transport_default_spec(), gpuvm_last_error());
		/* A malformed spec is a usage error; a device that is not there is not. */
		return err == GPUVM_ERR_INVALID ? EXIT_USAGE : EXIT_FAILURE;
	}
	err = run_repeated(a, ctx, &res, &runs);
	if (err && err != GPUVM_ERR_VERIFY)
		fprintf(stderr, "gpuvm-run: %s failed: %s (%s)\n", a->wl->name, gpuvm_last_error(),
			gpuvm_strerror(err));
	gpuvm_ctx_destroy(ctx);
	if (err == GPUVM_OK || err == GPUVM_ERR_VERIFY) {
		printf("%s\n", res.detail);
		printf("%s: %s, time %.6f s, %.3f %s\n", a->wl->name,
		       res.verified ? "verified" : "WRONG RESULT", res.seconds, res.rate, res.unit);
	}
	if (a->seconds > 0)
		printf("%s: %u runs in %.3f s\n", a->wl->name, runs, seconds_now() - t0);
	if (a->timing)
		print_timing(&timing);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct run_args a = { 0 };
	int ret = parse_args(argc, argv, &a);

	if (ret < 0)
		return EXIT_SUCCESS;
	if (ret)
		return ret;
	return run(&a);
}
