/*
 * gpuvm-overhead (build/bench/overhead): every workload in every mode,
 * timed per phase, against native.  See docs/pv-protocol.md ("Overhead").
 *
 *   overhead [--quick] [--reps N] [--out DIR] [--skip-noopt]
 *
 * --skip-noopt leaves out "full (no optimizations)", by far the slowest
 * configuration, for repeated timing runs of the others.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "overhead.h"

/* Sizes keep "full (no optimizations)", where every BAR byte traps, to minutes. */
static const struct ovh_case full_cases[] = {
	{ "tiny kernel (vadd 64)", "vadd", 64 },
	{ "memcpy 4K", "memcpy", 4u << 10 },
	{ "memcpy 256K", "memcpy", 256u << 10 },
	{ "memcpy 4M", "memcpy", 4u << 20 },
	{ "vadd 1M", "vadd", 1u << 20 },
	{ "madd 512", "madd", 512 },
	{ "mmul 256", "mmul", 256 },
};

static const struct ovh_case quick_cases[] = {
	{ "tiny kernel (vadd 64)", "vadd", 64 },
	{ "memcpy 1M", "memcpy", 1u << 20 },
	{ "vadd 64K", "vadd", 64u << 10 },
	{ "mmul 64", "mmul", 64 },
};

struct options {
	bool quick;
	bool skip_noopt;
	unsigned reps;
	const char *out;
};

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "reps", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ "skip-noopt", no_argument, NULL, 'n' }, { 0 },
	};
	int c;

	*o = (struct options){ .reps = 5, .out = "build/overhead" };
	while ((c = getopt_long(argc, argv, "qr:o:h", opts, NULL)) != -1) {
		if (c == 'q')
			o->quick = true;
		else if (c == 'r' && atoi(optarg) > 0)
			o->reps = (unsigned)atoi(optarg);
		else if (c == 'o')
			o->out = optarg;
		else if (c == 'n')
			o->skip_noopt = true;
		else {
			fprintf(stderr, "usage: %s [--quick] [--reps N] [--out DIR] [--skip-noopt]\n"
				"gpuvmd comes from $GPUVM_BIN, else ../bin next to this program.\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct ovh_daemon d = { 0 };
	const struct ovh_case *cases;
	unsigned n;
	struct ovh_result (*res)[OVH_NCONFIGS];
	char err[256];
	int ret = parse(argc, argv, &o);

	if (ret >= 0)
		return ret;
	cases = o.quick ? quick_cases : full_cases;
	n = o.quick ? sizeof(quick_cases) / sizeof(quick_cases[0]) : sizeof(full_cases) / sizeof(full_cases[0]);
	res = calloc(n, sizeof(*res));
	if (!res || ovh_daemon_start(&d, argv[0]) || ovh_daemon_setup_vgpus(&d, err, sizeof(err))) {
		fprintf(stderr, "gpuvm-overhead: cannot start gpuvmd or its vGPUs %s\n", d.pid ? err : "");
		ovh_daemon_stop(&d);
		free(res);
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		res[i][OVH_FULL_NOOPT].skipped = o.skip_noopt;
		ovh_run_case(&d, &cases[i], o.reps, res[i]);
	}
	ovh_daemon_stop(&d);
	ovh_print_tables(cases, n, res);
	mkdir(o.out, 0755);
	ret = ovh_write_plot(o.out, cases, n, res);
	printf("\nData and plot: %s/overhead.{dat,gp%s}\n", o.out, ret == 0 ? ",svg" : "");
	ret = 0;
	for (unsigned i = 0; i < n; i++)
		for (int k = 0; k < OVH_NCONFIGS; k++)
			if (!res[i][k].ok && !res[i][k].skipped)
				ret = 1;
	free(res);
	return ret;
}
