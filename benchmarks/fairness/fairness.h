/*
 * gpuvm-fairness: how fairly gpuvmd's scheduler shares the GPU between VMs.
 *
 * It starts a private gpuvmd on gpusim, creates N vGPUs with the weights
 * and caps asked for, runs one guest process per VM (busy kernels of
 * different lengths, or mmul), samples the daemon's scheduler statistics
 * every 100 ms, and reports each VM's share of GPU time against its
 * target, Jain's fairness index over 500 ms windows, GPU utilization and
 * the scheduler's cost per submission; it writes a plot and a markdown
 * summary.  The goals are measured and reported, never asserted: the exit
 * status says whether the benchmark ran (0), failed (1), was given bad
 * flags (2) or was interrupted (130).
 *
 *   main.c      options, the run from start to end, signals
 *   procs.c     child processes: gpuvmd and the guests, and cleaning up
 *   ctl.c       the control protocol: create, stats samples, shutdown
 *   analysis.c  windows, shares, Jain's index, utilization, overhead
 *   report.c    the tables, the markdown summary and the gnuplot plot
 */
#ifndef GPUVM_FAIRNESS_H
#define GPUVM_FAIRNESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define FX_MAX_VMS          16
#define FX_EXIT_FAIL        1
#define FX_EXIT_USAGE       2
#define FX_EXIT_INTERRUPTED 130

/* What one VM's guest runs. */
enum fx_kind { FX_BUSY, FX_MMUL };

struct fx_vm_cfg {
	char name[16];
	enum fx_kind kind;
	unsigned ms;                /* busy kernel length */
	unsigned weight;            /* 1..65535 */
	unsigned cap;               /* percent, 0 = none */
};

struct fx_config {
	unsigned nvms;
	const char *sched;          /* policy name */
	const char *mode;           /* vGPU mode (full) */
	double seconds;             /* measured once every VM has started */
	unsigned tslice_ms;         /* 0 = the daemon's default */
	unsigned poll_ms;           /* stats sampling period */
	unsigned window_ms;         /* Jain's index windows */
	const char *out_dir;        /* NULL = next to the binary: ../fairness */
	bool quiet;
	struct fx_vm_cfg vm[FX_MAX_VMS];
};

/* One stats sample: the scheduler's counters at time t. */
struct fx_sample {
	double t;                   /* seconds on the scheduler's clock */
	uint64_t busy_ns, decisions, decision_ns, releases;
	uint64_t gpu_ns[FX_MAX_VMS];
	uint64_t vm_releases[FX_MAX_VMS];
	uint64_t wait_ns[FX_MAX_VMS];
	unsigned queued[FX_MAX_VMS];
	unsigned in_flight[FX_MAX_VMS];
};

struct fx_samples {
	struct fx_sample *s;
	size_t n, cap;
	size_t from;                /* the measurement starts here (after the warm-up) */
};

/* ---- procs.c ------------------------------------------------------------------ */
/* Set by the signal handler: the run stops, everything is cleaned up. */
extern volatile sig_atomic_t fx_signal;
void fx_signals_install(void);
/* Start argv[0] (a path) with stdout and stderr on log_path; -1 with a message. */
pid_t fx_spawn(char *const argv[], const char *log_path);
/* Exited?  true with its wait status; false while it runs. */
bool fx_reap(pid_t pid, int *status);
/* Wait at most timeout_ms; true with its status once it exited. */
bool fx_wait(pid_t pid, int timeout_ms, int *status);
/* SIGTERM, then SIGKILL after grace_ms; always reaps it. */
void fx_stop(pid_t pid, int grace_ms);
void fx_sleep_ms(unsigned ms);
double fx_now(void);
/* The directory of our binary's ../bin, or $GPUVM_BIN; "" if neither works. */
void fx_bin_dir(char *dir, size_t len);
/* Last lines of a log file, for error messages. */
void fx_print_log_tail(FILE *f, const char *path, int lines);

/* ---- ctl.c ------------------------------------------------------------------- */
struct fx_ctl {
	const char *sock;
	int fd;
};
/* Connect, retrying until the daemon answers or timeout_ms; 0 or -1 + err. */
int fx_ctl_connect(struct fx_ctl *c, const char *sock, int timeout_ms, pid_t daemon,
		   char *err, size_t errlen);
void fx_ctl_close(struct fx_ctl *c);
/* Create the configured vGPUs.  0 or -1 + err. */
int fx_ctl_create(struct fx_ctl *c, const struct fx_config *cfg, char *err, size_t errlen);
/* One stats sample into *out (VMs matched by name, in cfg order).  0 or -1 + err. */
int fx_ctl_sample(struct fx_ctl *c, const struct fx_config *cfg, struct fx_sample *out,
		  char *err, size_t errlen);
/* Ask the daemon to shut down.  0 or -1. */
int fx_ctl_shutdown(struct fx_ctl *c);
int fx_samples_add(struct fx_samples *ss, const struct fx_sample *s);

/* ---- analysis.c ---------------------------------------------------------------- */
struct fx_result {
	bool ok;                    /* enough samples to say anything */
	const char *why;            /* if not */
	size_t all_from, all_to;    /* samples: the measurement, every VM busy */
	size_t any_from, any_to;    /* from the first VM's work to the end */
	double all_secs, any_secs;  /* any_secs: time some VM had work queued or running */
	double target[FX_MAX_VMS];  /* share of GPU time, 0..1 */
	double share[FX_MAX_VMS];   /* measured over the all-busy span */
	double gpu_s[FX_MAX_VMS];   /* GPU seconds over the whole run */
	double err_pts[FX_MAX_VMS]; /* share - target, percentage points */
	double wait_us[FX_MAX_VMS]; /* mean wait per release */
	uint64_t releases[FX_MAX_VMS];
	double max_err_pts;
	unsigned windows;
	double jain_min, jain_mean;
	unsigned windows_fair;      /* windows with Jain's index >= 0.99 */
	struct fx_window {
		double t;           /* start, seconds from the first sample */
		double jain, busy;  /* busy: GPU time charged / window length */
	} worst[3];                 /* the least fair windows, worst first */
	unsigned nworst;
	double util_all, util_any;  /* GPU busy / wall time */
	double ns_per_release, ns_per_decision;
	uint64_t decisions, total_releases;
};

/* Target shares: weights, with caps as upper bounds (water-filling). */
void fx_targets(const struct fx_config *cfg, double *target);
void fx_analyse(const struct fx_config *cfg, const struct fx_samples *ss, struct fx_result *r);
/* Jain's index of x[0..n): (sum x)^2 / (n sum x^2); 1 when all are 0. */
double fx_jain(const double *x, unsigned n);
/* Share of GPU time of each VM in the window ending at sample i (for the plot). */
bool fx_window_shares(const struct fx_config *cfg, const struct fx_samples *ss, size_t i,
		      double *share);

/* ---- report.c ------------------------------------------------------------------ */
void fx_report_console(FILE *f, const struct fx_config *cfg, const struct fx_result *r);
int fx_report_markdown(const char *path, const struct fx_config *cfg, const struct fx_result *r,
		       const char *plot_name);
/*
 * Write DIR/fairness.dat and DIR/fairness.gp and run gnuplot on them.
 * Returns 0 with the plot's file name in plot (relative to dir), or -1
 * with the reason in why (no gnuplot, gnuplot failed).
 */
int fx_report_plot(const char *dir, const struct fx_config *cfg, const struct fx_samples *ss,
		   const struct fx_result *r, char *plot, size_t plotlen, char *why, size_t whylen);

#endif
