/*
 * Fairness scenarios run by the simulator (util_sim.h) against any
 * serializing proportional-share policy: credit and band must both pass
 * them.  Each prints its figures and fails the calling cmocka test if the
 * policy misses the bound it asserts.
 */
#ifndef TEST_UTIL_SCENARIO_H
#define TEST_UTIL_SCENARIO_H

#include <stdint.h>

#include "sched_policy.h"

/* Weights 1:2:4:8, all busy: shares within 2 points of 1/15 .. 8/15. */
void scenario_weights(const struct sched_policy *p);
/* The same with 1 ms and 10 ms kernels mixed across the weights. */
void scenario_weights_mixed_kernels(const struct sched_policy *p);
/* 4 equal VMs, two with 1 ms and two with 10 ms kernels: Jain >= 0.99 per 500 ms. */
void scenario_kernel_skew(const struct sched_policy *p);
/* A VM capped at 20% alone, with short and with long kernels: <= 20% + 1. */
void scenario_cap_alone(const struct sched_policy *p);
/* A capped VM next to an uncapped one: the capped one stays under its cap,
 * the other gets the rest. */
void scenario_cap_with_others(const struct sched_policy *p);
/* Cap 0 (and >= 100) is no cap, and a VM alone gets the whole GPU. */
void scenario_uncapped_alone_gets_all(const struct sched_policy *p);
/*
 * One 200 ms kernel among 4 VMs: debt stays above -debt_periods periods,
 * the VM is locked out no longer than it takes to repay that at its share,
 * and shares recover.
 */
void scenario_giant_kernel(const struct sched_policy *p, unsigned debt_periods);
/*
 * 4 equal VMs, two with 1 ms and two with 100 ms kernels (longer than a
 * period), 20 s: returns the largest distance of a share from 1/4.
 */
double scenario_long_kernels(const struct sched_policy *p);
/* A VM idle for 2 s then busy does not cash in banked credit. */
void scenario_idle_then_busy(const struct sched_policy *p);
/* A VM flooding 10 us submissions gets no more than its share. */
void scenario_flood(const struct sched_policy *p);
/* A VM removed with queued work: the others share the GPU evenly after. */
void scenario_removal(const struct sched_policy *p);
/*
 * Kernel skew and weights again, with the mechanism polling every 25 us as
 * gpu_sched.c does (late charges, a pick at every poll): same bounds.
 */
void scenario_polling_mechanism(const struct sched_policy *p);
/* A synchronous VM (one 1 ms kernel at a time) next to one with 10 ms
 * kernels; returns the synchronous VM's share of GPU time. */
double scenario_sync_vs_long(const struct sched_policy *p, uint64_t poll_ns);

#endif
