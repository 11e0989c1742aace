/* Markdown tables and a gnuplot plot of the overhead results. */
#include <stdio.h>
#include <stdlib.h>

#include "overhead.h"

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double ratio(const struct ovh_result *r, const struct ovh_result *native)
{
	return native->ok && native->total_ns && r->ok ? (double)r->total_ns / (double)native->total_ns : 0;
}

static void print_case(const struct ovh_case *c, struct ovh_result *res)
{
	printf("\n### %s\n\n", c->label);
	printf("| configuration | init | alloc | HtoD | launch+sync | DtoH | close | total (ms) | x native "
	       "| traps | hypercalls | re-shadows |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int k = 0; k < OVH_NCONFIGS; k++) {
		const struct ovh_result *r = &res[k];

		if (!r->ok) {
			printf("| %s | %s%s |||||||||||\n", ovh_config_names[k],
			       r->skipped ? "skipped" : "failed: ", r->skipped ? "" : r->error);
			continue;
		}
		printf("| %s |", ovh_config_names[k]);
		for (int p = 0; p < GPUVM_PHASE_COUNT; p++)
			printf(" %.3f |", ms(r->timing.ns[p]));
		printf(" %.3f | %.2f | %llu | %llu | %llu |\n", ms(r->total_ns), ratio(r, &res[OVH_NATIVE]),
		       (unsigned long long)r->per_run.traps, (unsigned long long)r->per_run.hypercalls,
		       (unsigned long long)r->per_run.reshadows);
	}
}

static void print_summary(const struct ovh_case *cases, unsigned n, struct ovh_result (*res)[OVH_NCONFIGS])
{
	printf("\n### Summary: total time relative to native\n\n| workload |");
	for (int k = 0; k < OVH_NCONFIGS; k++)
		printf(" %s |", ovh_config_names[k]);
	printf("\n|---|");
	for (int k = 0; k < OVH_NCONFIGS; k++)
		printf("---:|");
	printf("\n");
	for (unsigned i = 0; i < n; i++) {
		printf("| %s |", cases[i].label);
		for (int k = 0; k < OVH_NCONFIGS; k++)
			printf(res[i][k].ok ? " %.2f |" : " - |", ratio(&res[i][k], &res[i][OVH_NATIVE]));
		printf("\n");
	}
}

void ovh_print_tables(const struct ovh_case *cases, unsigned ncases, struct ovh_result (*res)[OVH_NCONFIGS])
{
	printf("## gpuvm overhead per mode (times in ms, fastest of the repetitions)\n");
	for (unsigned i = 0; i < ncases; i++)
		print_case(&cases[i], res[i]);
	print_summary(cases, ncases, res);
}

static int write_data(const char *path, const struct ovh_case *cases, unsigned n,
		      struct ovh_result (*res)[OVH_NCONFIGS])
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "workload");      /* the header row: columnheader() in the plot */
	for (int k = 0; k < OVH_NCONFIGS; k++)
		fprintf(f, " \"%s\"", ovh_config_names[k]);
	fprintf(f, "\n");
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "\"%s\"", cases[i].label);
		for (int k = 0; k < OVH_NCONFIGS; k++)
			fprintf(f, " %.4f", ratio(&res[i][k], &res[i][OVH_NATIVE]));
		fprintf(f, "\n");
	}
	return fclose(f);
}

/* overhead.dat, overhead.gp and, when gnuplot is installed, overhead.svg in dir. */
int ovh_write_plot(const char *dir, const struct ovh_case *cases, unsigned ncases,
		   struct ovh_result (*res)[OVH_NCONFIGS])
{
	char path[512], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/overhead.dat", dir);
	if (write_data(path, cases, ncases, res))
		return -1;
	snprintf(path, sizeof(path), "%s/overhead.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "set terminal svg size 1100,500 dynamic\nset output '%s/overhead.svg'\n"
		"set title 'gpuvm: total time relative to native (log scale)'\n"
		"set style data histograms\nset style histogram clustered gap 1\n"
		"set style fill solid 0.8 border -1\nset logscale y\nset yrange [0.5:*]\n"
		"set ylabel 'x native'\nset xtics rotate by -30\nset key top right\nset grid ytics\n"
		"plot for [c=2:%d] '%s/overhead.dat' using c:xtic(1) title columnheader(c)\n",
		dir, OVH_NCONFIGS + 1, dir);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "command -v gnuplot >/dev/null 2>&1 && gnuplot '%s' 2>/dev/null", path);
	return system(cmd) == 0 ? 0 : 1;
}
