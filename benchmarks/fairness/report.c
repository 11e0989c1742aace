/*
 * The benchmark's output (fairness.h): tables on the terminal, a markdown
 * summary, and a plot of each VM's share over time drawn by gnuplot.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fairness.h"

#define GOAL_JAIN       0.99
#define GOAL_ERR_PTS    2.0
#define GOAL_UTIL       0.95
#define GOAL_OVERHEAD   2000.0      /* ns per submission */

static const char *workload(const struct fx_vm_cfg *vm, char *buf, size_t len)
{
	if (vm->kind == FX_MMUL)
		snprintf(buf, len, "mmul 256");
	else
		snprintf(buf, len, "busy %u ms", vm->ms);
	return buf;
}

static const char *cap_text(unsigned cap, char *buf, size_t len)
{
	if (cap)
		snprintf(buf, len, "%u%%", cap);
	else
		snprintf(buf, len, "-");
	return buf;
}

struct goal {
	const char *text;
	bool met;
	char value[48];
	bool na;                    /* cannot be measured in this run */
};

/* Overlapping submissions (direct) make the charged time no GPU time. */
static bool overlapped(const struct fx_result *r)
{
	return r->ok && r->util_all > 1.05;
}

static void goals(const struct fx_result *r, struct goal g[4])
{
	g[0] = (struct goal){ "Jain's index >= 0.99 in every 500 ms window", r->ok &&
			      r->windows && r->jain_min >= GOAL_JAIN, "" };
	snprintf(g[0].value, sizeof(g[0].value), "min %.4f", r->jain_min);
	g[1] = (struct goal){ "every VM within 2 points of its target share",
			      r->ok && r->max_err_pts <= GOAL_ERR_PTS, "" };
	snprintf(g[1].value, sizeof(g[1].value), "max error %.2f points", r->max_err_pts);
	g[2] = (struct goal){ "GPU utilization >= 95% while any VM has work",
			      r->ok && r->util_any >= GOAL_UTIL, "" };
	snprintf(g[2].value, sizeof(g[2].value), "%.1f%%", r->util_any * 100);
	g[3] = (struct goal){ "scheduling overhead < 2 us per submission",
			      r->total_releases && r->ns_per_release < GOAL_OVERHEAD, "" };
	snprintf(g[3].value, sizeof(g[3].value), "%.2f us", r->ns_per_release / 1e3);
	for (int i = 0; i < 3 && overlapped(r); i++) {
		g[i].na = true;
		snprintf(g[i].value, sizeof(g[i].value), "not measurable: submissions overlapped");
	}
}

static const char *goal_mark(const struct goal *g, bool md)
{
	if (g->na)
		return md ? "n/a" : "[n/a]";
	if (g->met)
		return md ? "yes" : "[met]";
	return md ? "**no**" : "[MISSED]";
}

/*
 * The least fair windows, with the GPU time charged in them: far under 100%
 * and then far over it is a stall (no submission completing for a while,
 * then one charged for all of it), not a scheduling decision.
 */
static void print_worst(FILE *f, const struct fx_result *r)
{
	if (!r->nworst || r->worst[0].jain >= 0.99)
		return;
	fprintf(f, "  least fair windows:");
	for (unsigned i = 0; i < r->nworst && r->worst[i].jain < 0.99; i++)
		fprintf(f, "%s at %.1f s: %.4f (GPU time charged %.0f%% of the window)",
			i ? "," : "", r->worst[i].t, r->worst[i].jain, r->worst[i].busy * 100);
	fprintf(f, "\n");
}

void fx_report_console(FILE *f, const struct fx_config *cfg, const struct fx_result *r)
{
	struct goal g[4];
	char wl[32], cap[16];

	if (!r->ok) {
		fprintf(f, "\nNo fairness figures: %s.\n", r->why ? r->why : "no data");
	} else {
		fprintf(f, "\nPer VM (shares of GPU time while every VM had work, %.2f s):\n",
			r->all_secs);
		fprintf(f, "  %-6s %-11s %6s %5s %8s %8s %9s %8s %9s %12s\n", "VM", "workload",
			"weight", "cap", "target", "share", "error", "GPU s*", "releases*",
			"wait/rel.*");
		for (unsigned i = 0; i < cfg->nvms; i++)
			fprintf(f, "  %-6s %-11s %6u %5s %7.2f%% %7.2f%% %+6.2f pt %8.3f %9llu %9.1f us\n",
				cfg->vm[i].name, workload(&cfg->vm[i], wl, sizeof(wl)),
				cfg->vm[i].weight, cap_text(cfg->vm[i].cap, cap, sizeof(cap)),
				r->target[i] * 100, r->share[i] * 100, r->err_pts[i], r->gpu_s[i],
				(unsigned long long)r->releases[i], r->wait_us[i]);
		fprintf(f, "  (* whole run, start-up included)\n");
		fprintf(f, "\nJain's fairness index over %u ms windows: min %.4f, mean %.4f, "
			">= 0.99 in %u of %u windows\n", cfg->window_ms, r->jain_min, r->jain_mean,
			r->windows_fair, r->windows);
		print_worst(f, r);
		fprintf(f, "Maximum share error: %.2f points\n", r->max_err_pts);
		fprintf(f, "GPU utilization: %.1f%% while any VM had work (%.2f s), %.1f%% while "
			"all did\n", r->util_any * 100, r->any_secs, r->util_all * 100);
		if (overlapped(r))
			fprintf(f, "  note: more GPU time was charged than passed: the VMs' submissions "
				"overlapped on the GPU\n  (policy %s does not serialize them), so each "
				"one's stamps include other VMs' work\n  and the shares above are not "
				"GPU time.\n", cfg->sched);
	}
	fprintf(f, "Scheduling overhead: %.3f us per submission, %.3f us per decision "
		"(%llu releases, %llu decisions)\n", r->ns_per_release / 1e3,
		r->ns_per_decision / 1e3, (unsigned long long)r->total_releases,
		(unsigned long long)r->decisions);
	goals(r, g);
	fprintf(f, "\nGoals (measured, not asserted):\n");
	for (int i = 0; i < 4; i++)
		fprintf(f, "  %-9s %-48s %s\n", goal_mark(&g[i], false), g[i].text, g[i].value);
}

int fx_report_markdown(const char *path, const struct fx_config *cfg, const struct fx_result *r,
		       const char *plot_name)
{
	FILE *f = fopen(path, "w");
	struct goal g[4];
	char wl[32], cap[16];

	if (!f)
		return -1;
	fprintf(f, "# gpuvm-fairness\n\n%u VMs on gpusim, policy `%s`, measured for %.1f s once "
		"every VM had started; shares are of GPU time measured from the GPU's PTIMER "
		"stamps.\n\n", cfg->nvms, cfg->sched, cfg->seconds);
	if (r->ok) {
		fprintf(f, "| VM | workload | weight | cap | target | share | error | GPU s (run) | "
			"releases (run) | wait/release (run) |\n"
			"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (unsigned i = 0; i < cfg->nvms; i++)
			fprintf(f, "| %s | %s | %u | %s | %.2f%% | %.2f%% | %+.2f pt | %.3f | %llu | "
				"%.1f us |\n", cfg->vm[i].name, workload(&cfg->vm[i], wl, sizeof(wl)),
				cfg->vm[i].weight, cap_text(cfg->vm[i].cap, cap, sizeof(cap)),
				r->target[i] * 100, r->share[i] * 100, r->err_pts[i], r->gpu_s[i],
				(unsigned long long)r->releases[i], r->wait_us[i]);
		fprintf(f, "\n| figure | value |\n|---|---|\n");
		fprintf(f, "| span with every VM busy | %.2f s |\n", r->all_secs);
		fprintf(f, "| Jain's index per %u ms window | min %.4f, mean %.4f, >= 0.99 in %u of %u "
			"windows |\n", cfg->window_ms, r->jain_min, r->jain_mean, r->windows_fair,
			r->windows);
		for (unsigned i = 0; i < r->nworst && r->worst[i].jain < 0.99; i++)
			fprintf(f, "| window at %.1f s | Jain %.4f, GPU time charged %.0f%% of the "
				"window |\n", r->worst[i].t, r->worst[i].jain, r->worst[i].busy * 100);
		fprintf(f, "| maximum share error | %.2f points |\n", r->max_err_pts);
		fprintf(f, "| GPU utilization, any VM busy | %.1f%% over %.2f s |\n",
			r->util_any * 100, r->any_secs);
		fprintf(f, "| GPU utilization, all VMs busy | %.1f%% |\n", r->util_all * 100);
	} else {
		fprintf(f, "No fairness figures: %s.\n\n| figure | value |\n|---|---|\n",
			r->why ? r->why : "no data");
	}
	fprintf(f, "| scheduling overhead | %.3f us per submission, %.3f us per decision |\n",
		r->ns_per_release / 1e3, r->ns_per_decision / 1e3);
	goals(r, g);
	fprintf(f, "\n## Goals (measured, not asserted)\n\n| goal | result | met |\n|---|---|---|\n");
	for (int i = 0; i < 4; i++)
		fprintf(f, "| %s | %s | %s |\n", g[i].text, g[i].value, goal_mark(&g[i], true));
	if (plot_name)
		fprintf(f, "\n![share of GPU time over time](%s)\n", plot_name);
	return fclose(f) ? -1 : 0;
}

/* t, then each VM's share (%) in the window ending there, then Jain's index. */
static int write_dat(const char *path, const struct fx_config *cfg, const struct fx_samples *ss,
		     const struct fx_result *r)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# t(s)");
	for (unsigned i = 0; i < cfg->nvms; i++)
		fprintf(f, " %s(%%)", cfg->vm[i].name);
	fprintf(f, " jain\n");
	for (size_t k = 0; k < ss->n; k++) {
		double share[FX_MAX_VMS], x[FX_MAX_VMS];

		if (!fx_window_shares(cfg, ss, k, share))
			continue;
		fprintf(f, "%.3f", ss->s[k].t - ss->s[0].t);
		for (unsigned i = 0; i < cfg->nvms; i++) {
			fprintf(f, " %.3f", share[i] * 100);
			x[i] = r->target[i] > 0 ? share[i] / r->target[i] : 0;
		}
		fprintf(f, " %.5f\n", fx_jain(x, cfg->nvms));
	}
	return fclose(f) ? -1 : 0;
}

static int write_gp(const char *path, const struct fx_config *cfg, const struct fx_samples *ss,
		    const struct fx_result *r)
{
	FILE *f = fopen(path, "w");
	char wl[32];

	if (!f)
		return -1;
	fprintf(f, "# gnuplot script written by gpuvm-fairness; run: gnuplot fairness.gp\n"
		"set terminal svg size 960,720 dynamic enhanced font 'Helvetica,12' "
		"background '#ffffff'\nset output 'fairness.svg'\n"
		"set multiplot layout 2,1 title \"gpuvm-fairness: %u VMs, policy %s "
		"(%u ms windows; shaded: measured)\"\nset grid\nset key outside right top\n"
		"set lmargin at screen 0.08\nset rmargin at screen 0.70\nset xlabel 'time (s)'\n",
		cfg->nvms, cfg->sched, cfg->window_ms);
	if (r->ok)
		fprintf(f, "set object 1 rect from %.3f, graph 0 to %.3f, graph 1 behind "
			"fc rgb '#eeeeee' fs solid noborder\n", ss->s[r->all_from].t - ss->s[0].t,
			ss->s[r->all_to].t - ss->s[0].t);
	fprintf(f, "set ylabel 'share of GPU time (%%)'\nset yrange [0:*]\nplot ");
	for (unsigned i = 0; i < cfg->nvms; i++)
		fprintf(f, "'fairness.dat' using 1:%u with lines lw 2 lc %u title '%s (%s, w %u)', \\\n"
			"     %.3f with lines dt 2 lc %u notitle%s", i + 2, i + 1, cfg->vm[i].name,
			workload(&cfg->vm[i], wl, sizeof(wl)), cfg->vm[i].weight,
			r->target[i] * 100, i + 1, i + 1 < cfg->nvms ? ", \\\n     " : "\n");
	fprintf(f, "set ylabel \"Jain's index\"\nset yrange [0.5:1.02]\n"
		"plot 'fairness.dat' using 1:%u with lines lw 2 lc rgb '#000000' title 'Jain', \\\n"
		"     0.99 with lines dt 2 lc rgb '#cc0000' title 'goal 0.99'\n"
		"unset multiplot\n", cfg->nvms + 2);
	return fclose(f) ? -1 : 0;
}

/* Run gnuplot fairness.gp in dir; its output goes to dir/gnuplot.log. */
static int run_gnuplot(const char *dir, char *why, size_t whylen)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int log;

		if (chdir(dir) < 0)
			_exit(126);
		log = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		execlp("gnuplot", "gnuplot", "fairness.gp", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(why, whylen, "gnuplot is not installed (scripts/install-deps.sh installs it)");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, whylen, "gnuplot failed (see %s/gnuplot.log)", dir);
		return -1;
	}
	return 0;
}

/* Every sample as it came: for looking closer than the windows allow. */
static int write_samples(const char *path, const struct fx_config *cfg,
			 const struct fx_samples *ss)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# t(s) busy_ns decisions decision_ns releases");
	for (unsigned i = 0; i < cfg->nvms; i++)
		fprintf(f, " %s.gpu_ns %s.queued %s.in_flight", cfg->vm[i].name, cfg->vm[i].name,
			cfg->vm[i].name);
	fprintf(f, "\n");
	for (size_t k = 0; k < ss->n; k++) {
		const struct fx_sample *s = &ss->s[k];

		fprintf(f, "%.6f %llu %llu %llu %llu", s->t - ss->s[0].t,
			(unsigned long long)s->busy_ns, (unsigned long long)s->decisions,
			(unsigned long long)s->decision_ns, (unsigned long long)s->releases);
		for (unsigned i = 0; i < cfg->nvms; i++)
			fprintf(f, " %llu %u %u", (unsigned long long)s->gpu_ns[i], s->queued[i],
				s->in_flight[i]);
		fprintf(f, "\n");
	}
	return fclose(f) ? -1 : 0;
}

int fx_report_plot(const char *dir, const struct fx_config *cfg, const struct fx_samples *ss,
		   const struct fx_result *r, char *plot, size_t plotlen, char *why, size_t whylen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/samples.dat", dir);
	if (write_samples(path, cfg, ss)) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/fairness.dat", dir);
	if (write_dat(path, cfg, ss, r)) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/fairness.gp", dir);
	if (write_gp(path, cfg, ss, r)) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	if (run_gnuplot(dir, why, whylen))
		return -1;
	snprintf(plot, plotlen, "fairness.svg");
	return 0;
}
