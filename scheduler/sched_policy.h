/*
 * GPU scheduling policy: the decision of whose queued work reaches the GPU
 * next, kept apart from the mechanism that queues submissions, releases
 * them to physical channels and measures their GPU time (gpu_sched.c).
 *
 * A policy sees VMs (struct sched_vm) with queued work and the GPU time each
 * submission really took, measured from PTIMER stamps the GPU writes.  The
 * mechanism calls the policy with its lock held, so one call at a time
 * (from its thread, or from a thread submitting work, to see whether that
 * work may go at once), with a caller-supplied clock, so policies are plain
 * deterministic code that the tests drive with a simulated clock.
 *
 * Times are nanoseconds.  "Share" means the fraction of GPU time.
 */
#ifndef GPUVM_SCHED_POLICY_H
#define GPUVM_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_DEFAULT_WEIGHT    256
#define SCHED_MAX_WEIGHT        65535
#define SCHED_DEFAULT_PERIOD_NS (30ull * 1000 * 1000)   /* credit: accounting period */
#define SCHED_DEFAULT_TICK_NS   (10ull * 1000 * 1000)   /* credit: tick */
#define SCHED_MAX_VMS           64

struct sched_params {
	uint64_t period_ns;     /* credit: credits are handed out once per period */
	uint64_t tick_ns;       /* credit: how often tick() runs */
	uint64_t tslice_ns;     /* credit/band: how long one VM may keep the GPU when others wait */
};

struct sched_vm {
	unsigned id;
	char name[32];
	unsigned weight;        /* 1..SCHED_MAX_WEIGHT, default 256 */
	unsigned cap;           /* percent of the GPU, 0 = no cap; may exceed 100 for none */
	/* maintained by the mechanism */
	unsigned queued;        /* submissions waiting for release */
	unsigned in_flight;     /* released, not yet completed */
	uint64_t first_queued_at; /* enqueue time of the oldest queued submission (FIFO order) */
	uint64_t gpu_ns;        /* measured GPU time, total */
	/* owned by the policy */
	int64_t credit;         /* credit: ns of GPU time the VM may still use this period */
	uint64_t used_in_period;/* credit: measured ns in the current period (for caps) */
	bool capped;            /* credit: out of cap until the next period */
	uint64_t stamp;         /* policy's own use (e.g. band: last active time) */
};

struct sched_policy;

/*
 * The policy's view of all VMs.  vms[] holds n live VMs in creation order;
 * the mechanism keeps it current (add/remove go through the ops too).
 */
struct sched_state {
	struct sched_vm *vms[SCHED_MAX_VMS];
	unsigned n;
	struct sched_params params;
	const struct sched_policy *policy;
	void *policy_data;
	struct sched_vm *running;   /* VM whose work is on the GPU now, or NULL */
	uint64_t running_since;     /* when running was last picked */
};

struct sched_policy {
	const char *name;
	/* Serialize: at most one VM has work in flight at a time.  false = every
	 * submission is released at once (direct). */
	bool serialize;
	int (*init)(struct sched_state *s);
	void (*fini)(struct sched_state *s);
	void (*vm_added)(struct sched_state *s, struct sched_vm *vm, uint64_t now);
	void (*vm_removed)(struct sched_state *s, struct sched_vm *vm);
	/*
	 * Choose the VM whose oldest queued submission is released next, among
	 * VMs with queued > 0.  Return NULL to keep the GPU idle (e.g. every
	 * waiting VM is capped); then *retry_at says when to ask again (0 =
	 * on the next event).
	 *
	 * For a serializing policy the mechanism asks whenever some VM has
	 * queued work and either nothing is in flight or s->running has queued
	 * work too (also at the moment a VM submits: if the answer is that VM,
	 * its new work is released by the submitting thread at once).  Picking s->running releases more of its work behind what is
	 * in flight (pipelining); picking another VM makes the mechanism wait
	 * until s->running's work has drained, then release the pick.  So a
	 * policy takes the GPU away from a VM at submission boundaries by not
	 * picking it.
	 */
	struct sched_vm *(*pick)(struct sched_state *s, uint64_t now, uint64_t *retry_at);
	/* A submission of vm took ns of GPU time (measured), completed at now. */
	void (*charge)(struct sched_state *s, struct sched_vm *vm, uint64_t ns, uint64_t now);
	/* Called every params.tick_ns (credit refill, cap reset). */
	void (*tick)(struct sched_state *s, uint64_t now);
};

extern const struct sched_policy sched_policy_direct;
extern const struct sched_policy sched_policy_fifo;
extern const struct sched_policy sched_policy_credit;
extern const struct sched_policy sched_policy_band;

/* "direct", "fifo", "credit", "band" -> policy, or NULL. */
const struct sched_policy *sched_policy_find(const char *name);

#endif
