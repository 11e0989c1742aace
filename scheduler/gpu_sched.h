/*
 * The scheduling mechanism: per-VM queues of submissions, one thread that
 * asks the policy (sched_policy.h) whose work goes next, releases it through
 * the owner's callbacks, watches it complete and charges the GPU time the
 * GPU itself stamped.  Owners are vGPUs; a submission is "channel C of this
 * vGPU has new GPFIFO entries [from, to)".
 *
 * Locking: the mechanism's lock is taken after an owner's own lock (an
 * owner calls sched_submit/sched_cancel_chan with its lock held) and is
 * never held while an owner callback that may take the owner's lock runs.
 * sched_submit may call the owner's release_locked in the caller's own
 * thread, under the lock the caller holds and without the mechanism's.
 */
#ifndef GPUVM_GPU_SCHED_H
#define GPUVM_GPU_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sched_policy.h"

/*
 * Longest one submission may stay in flight before its channel is stopped.
 * Generous: gpusim under a sanitizer on a loaded 2-core machine runs a
 * large kernel for seconds, and a bystander must never be killed for that.
 */
#define SCHED_WATCHDOG_NS   (60ull * 1000 * 1000 * 1000)
/*
 * Entries released at once.  A guest keeps GP_PUT writes coming while its
 * work waits, and they merge into its queued item; released whole, that
 * could be seconds of non-preemptible work, so it goes out a piece at a
 * time and each piece is measured and charged on its own.
 */
#define SCHED_RELEASE_ENTRIES 1

struct sched;
struct sched_client;

struct sched_item {
	struct sched_item *next;
	struct sched_client *client;
	unsigned chan;              /* owner's channel id */
	uint32_t from, to;          /* owner's payload: guest ring indices */
	uint64_t enq_ns;            /* queued at */
	uint64_t rel_ns;            /* released at */
	uint32_t slot;              /* owner's: where its fence lives */
	uint32_t gen;               /* owner's: channel binding generation */
	int pchid;                  /* owner's: physical channel, for poll */
	/*
	 * mechanism's: release at most this many entries of [from, to) now
	 * (0 = all).  An owner that stops short sets `to` to where it stopped;
	 * the rest stays queued, first in line, as an item of its own.
	 */
	uint32_t max_entries;
	bool canceled;
	bool completed;             /* mechanism's: finished on the GPU */
};

enum sched_poll { SCHED_PENDING, SCHED_DONE, SCHED_DEAD };

struct sched_owner_ops {
	/*
	 * Release it to the GPU.  0: in flight.  -EAGAIN: no room now, try
	 * again later.  Other errors: dropped.  Called without the sched lock.
	 */
	int (*release)(void *owner, struct sched_item *it);
	/*
	 * The same, called from sched_submit in the submitting thread, which
	 * holds the owner's lock: when the policy would release the new work
	 * at once anyway, it goes out without waiting for the scheduler
	 * thread to wake.  Any error leaves the item queued, first in line,
	 * for the thread (which calls release).  No sched lock.  NULL: never.
	 */
	int (*release_locked)(void *owner, struct sched_item *it);
	/*
	 * Has it finished?  SCHED_DONE fills the GPU's begin/end stamps (ns);
	 * SCHED_DEAD when it never will (channel faulted).  Called with the
	 * sched lock held: must not block or take the owner's lock.
	 */
	enum sched_poll (*poll)(void *owner, const struct sched_item *it, uint64_t *begin, uint64_t *end);
	/* Finished or dropped: update guest-visible progress.  No sched lock. */
	void (*retire)(void *owner, const struct sched_item *it, bool completed);
	/* Ran past the watchdog: stop its channel.  No sched lock. */
	void (*kill)(void *owner, const struct sched_item *it);
};

/* Per-VM figures for gpuvmctl top / stats. */
struct sched_vm_stats {
	char name[32];
	unsigned weight, cap;
	uint64_t gpu_ns;            /* measured GPU time, total */
	double share_100ms, share_1s;   /* fraction of GPU time in the last window */
	unsigned queued, in_flight;
	uint64_t submissions, releases, waits;
	uint64_t wait_ns;           /* total time submissions spent queued */
	int64_t credit;
};

struct sched_stats {
	const char *policy;
	uint64_t busy_ns;           /* measured GPU time of all VMs */
	uint64_t uptime_ns;
	uint64_t decisions;         /* policy picks */
	uint64_t decision_ns;       /* CPU time spent in the scheduler per decision, total */
};

struct sched *sched_create(const struct sched_policy *policy, const struct sched_params *params,
			   uint64_t (*clock_ns)(void *arg), void *clock_arg);
void sched_destroy(struct sched *s);
/* Switch policy at run time; queued work stays queued. */
int sched_set_policy(struct sched *s, const struct sched_policy *policy);
const char *sched_policy_name(struct sched *s);
int sched_set_params(struct sched *s, const struct sched_params *params);
void sched_get_params(struct sched *s, struct sched_params *out);

struct sched_client *sched_client_add(struct sched *s, const char *name, unsigned nchan,
				      const struct sched_owner_ops *ops, void *owner);
/* Drop its queued work, wait until no callback of it runs, forget it. */
void sched_client_remove(struct sched *s, struct sched_client *c);
int sched_client_set(struct sched *s, struct sched_client *c, int weight, int cap);
void sched_client_stats(struct sched *s, struct sched_client *c, struct sched_vm_stats *out);
void sched_get_stats(struct sched *s, struct sched_stats *out);

/*
 * Queue new work of a channel: [from, to) extends the channel's queued item
 * if it has one.  If the channel's work is the client's only queued work
 * and the policy would release it now (direct: always; serializing: pick()
 * chooses this VM and no other VM's work is in flight), it is released
 * before this returns, through the owner's release_locked; the scheduler
 * thread then only polls for its completion.  Returns 0 (queued or
 * released) or -ENOMEM.
 */
int sched_submit(struct sched *s, struct sched_client *c, unsigned chan, uint32_t gen,
		 uint32_t from, uint32_t to);
/* The channel goes away: drop its queued work; in-flight work is retired
 * without charge when the owner's poll reports it dead. */
void sched_cancel_chan(struct sched *s, struct sched_client *c, unsigned chan);
/* Queued items of a channel (for the guest-visible PENDING bit). */
bool sched_chan_busy(struct sched *s, struct sched_client *c, unsigned chan);
/* Something completed (an interrupt): look now instead of at the next poll. */
void sched_kick(struct sched *s);

#endif
