/*
 * gpuvm-overhead: what each virtualisation mode costs, per workload and per
 * phase, against native gpusim in this process.  Configurations: native,
 * full without optimisations (no lazy shadowing, no BAR remapping), full
 * optimised, pv-naive, pv.  gpuvmd runs as a child on a private socket.
 */
#ifndef GPUVM_OVERHEAD_H
#define GPUVM_OVERHEAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuvm_guest.h"

enum ovh_config { OVH_NATIVE, OVH_FULL_NOOPT, OVH_FULL, OVH_PV_NAIVE, OVH_PV, OVH_NCONFIGS };

struct ovh_case {
	const char *label;          /* e.g. "memcpy 1M" */
	const char *workload;
	uint64_t size;
};

struct ovh_counters {
	uint64_t traps, hypercalls, reshadows;
};

struct ovh_result {
	bool ok;
	bool skipped;                   /* not run (--skip-noopt) */
	char error[200];
	struct gpuvm_timing timing;     /* of the fastest repetition */
	uint64_t total_ns;
	struct ovh_counters per_run;    /* daemon counters, averaged over the repetitions */
};

struct ovh_daemon {
	char dir[64];
	char sock[128];
	char guest_sock[160];
	pid_t pid;
};

extern const char *const ovh_config_names[OVH_NCONFIGS];

/* overhead_daemon.c */
int ovh_daemon_start(struct ovh_daemon *d, const char *argv0);
void ovh_daemon_stop(struct ovh_daemon *d);
/* One JSON request; 0 and the reply's "vgpu" counters (if any), or -1 with a message. */
int ovh_daemon_call(struct ovh_daemon *d, const char *json, struct ovh_counters *c,
		    char *err, size_t errlen);
int ovh_daemon_setup_vgpus(struct ovh_daemon *d, char *err, size_t errlen);
const char *ovh_vgpu_name(enum ovh_config c);

/* overhead_run.c */
/* Every configuration not marked skipped in out[], in interleaved rounds. */
void ovh_run_case(struct ovh_daemon *d, const struct ovh_case *c, unsigned reps,
		  struct ovh_result out[OVH_NCONFIGS]);

/* overhead_report.c */
void ovh_print_tables(const struct ovh_case *cases, unsigned ncases,
		      struct ovh_result (*res)[OVH_NCONFIGS]);
int ovh_write_plot(const char *dir, const struct ovh_case *cases, unsigned ncases,
		   struct ovh_result (*res)[OVH_NCONFIGS]);

#endif
