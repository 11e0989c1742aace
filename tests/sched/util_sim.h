/*
 * A deterministic simulator for scheduling policies: VMs with simple
 * workloads, a non-preemptible GPU that runs one submission at a time, and
 * a mechanism that calls pick/charge/tick the way scheduler/gpu_sched.c
 * does, all on a simulated clock.  GPU time is recorded per VM per window
 * so tests can assert shares and Jain's fairness index.
 *
 * The mechanism model (see pick() in sched_policy.h and dispatch_serial()
 * in gpu_sched.c):
 * - serializing policies: pick is asked whenever some VM has queued work
 *   and either nothing of the running VM is in flight or it has queued work
 *   too; picking the running VM releases one more of its submissions behind
 *   what is in flight; picking another VM while the running one still has
 *   work in flight releases nothing, and the question is asked again at the
 *   next event (a completion), so the switch happens once it has drained;
 * - pick returning NULL: asked again at *retry_at, or at the next event
 *   (completion, arrival, removal) — not at ticks, so a policy that forgets
 *   to give a retry time leaves the GPU idle and the test sees it;
 * - non-serializing policies: pick is asked until nothing is queued and
 *   each pick releases one submission at once;
 * - the GPU runs released submissions one at a time (a VM's in order,
 *   round robin across VMs), with switch_ns of idle GPU when it moves to
 *   another VM's work; charge() gets each submission's GPU time at its end;
 * - tick() runs at 0, tick_ns, 2 tick_ns, ...
 * - with poll_ns set, the mechanism polls instead (see struct sim_cfg).
 */
#ifndef TEST_UTIL_SIM_H
#define TEST_UTIL_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "sched_policy.h"

#define SIM_MAX_VMS 8
#define SIM_MS      (1000ull * 1000)
#define SIM_US      1000ull
#define SIM_S       (1000ull * SIM_MS)

/*
 * A VM's workload: it keeps `depth` submissions outstanding (queued or on
 * the GPU); think_ns after each completion it submits the next one.  depth
 * 1 with a think time is a synchronous application; a large depth of tiny
 * kernels is a flood.
 */
struct sim_vm_cfg {
	const char *name;
	unsigned weight;        /* 0: default */
	unsigned cap;
	uint64_t kernel_ns;     /* GPU time of one submission */
	unsigned depth;         /* outstanding submissions; 0 means 4 */
	uint64_t think_ns;
	uint64_t start_ns;      /* first submissions then */
	uint64_t stop_ns;       /* no new submissions from then on; 0: never */
	uint64_t giant_ns;      /* if set: the first submission made at or after */
	uint64_t giant_at;      /*   giant_at takes giant_ns instead */
	uint64_t remove_at;     /* if set: removed then, with its queued work */
};

struct sim_cfg {
	const struct sched_policy *policy;
	struct sched_params params;     /* zeros: the policy's defaults */
	unsigned nvms;
	struct sim_vm_cfg vm[SIM_MAX_VMS];
	uint64_t duration_ns;
	uint64_t window_ns;             /* 0 means 500 ms */
	uint64_t switch_ns;             /* GPU idle when it changes VM */
	/*
	 * 0: the mechanism sees each completion when it happens.  Otherwise it
	 * polls like gpu_sched.c: completions are seen (and charged) at the
	 * next multiple of poll_ns, and the policy is asked at every poll while
	 * work is in flight and at every tick, not only at events.
	 */
	uint64_t poll_ns;
};

struct sim_vm_result {
	uint64_t gpu_ns;                /* GPU time (charged), total */
	uint64_t *window_ns;            /* GPU time per window */
	uint64_t *window_max_wait_ns;   /* longest queue wait of a release, per window */
	int64_t min_credit, max_credit; /* vm->credit seen after charges and picks */
	uint64_t releases, completions;
	uint64_t *release_at;           /* time of each release, in order */
	uint64_t giant_end;             /* when the giant submission completed */
	bool removed;
};

struct sim {
	struct sim_cfg cfg;
	struct sched_state st;
	struct sched_vm vm[SIM_MAX_VMS];
	struct sim_vm_result res[SIM_MAX_VMS];
	unsigned nwindows;
	uint64_t picks, null_picks, switches, busy_ns;
	struct sim_private *priv;
};

/* Run cfg to the end.  Fails the calling cmocka test on a policy error. */
struct sim *sim_run(const struct sim_cfg *cfg);
void sim_free(struct sim *m);

/* Window index of time t. */
unsigned sim_window(const struct sim *m, uint64_t t);
/* vm's fraction of all VMs' GPU time in windows [from, to). */
double sim_share(const struct sim *m, unsigned vm, unsigned from, unsigned to);
/* vm's fraction of wall time in windows [from, to). */
double sim_time_share(const struct sim *m, unsigned vm, unsigned from, unsigned to);
/* Fraction of wall time the GPU ran nobody's work in windows [from, to). */
double sim_idle_share(const struct sim *m, unsigned from, unsigned to);
/*
 * Jain's index of weight-normalised GPU time in one window over the VMs in
 * mask (bit i = VM i): 1 is perfectly proportional, 1/k the worst.
 */
double sim_jain(const struct sim *m, unsigned window, uint64_t mask);
double sim_min_jain(const struct sim *m, unsigned from, unsigned to, uint64_t mask);
double sim_mean_jain(const struct sim *m, unsigned from, unsigned to, uint64_t mask);
/* Longest queue wait of vm's releases in windows [from, to). */
uint64_t sim_max_wait(const struct sim *m, unsigned vm, unsigned from, unsigned to);
/* Time of vm's first release at or after t, or UINT64_MAX. */
uint64_t sim_first_release_after(const struct sim *m, unsigned vm, uint64_t t);
/* Print shares, waits and Jain's index for windows [from, to). */
void sim_report(const struct sim *m, const char *label, unsigned from, unsigned to, uint64_t mask);

#endif
