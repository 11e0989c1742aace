/*
 * gpusim: a register-compatible software model of the NVC0 subset in
 * include/nvc0/.  A library, not a process: create one, then drive it only
 * through the struct gpu_hw it returns.  The functions below are for the
 * host that owns the model (tests, gpuvmd) and are not part of the hardware
 * interface: configuration, the audit oracle and statistics.
 */
#ifndef GPUSIM_H
#define GPUSIM_H

#include <stdbool.h>
#include <stdint.h>

#include "gpu_hw.h"

struct gpusim;

struct gpusim_config {
	uint64_t vram_size;       /* bytes, multiple of 1 MiB; 0 = 1 GiB */
	uint64_t bar1_size;       /* 0 = 256 MiB */
	uint64_t bar3_size;       /* 0 = 16 MiB */
	uint32_t timeslice_us;    /* PFIFO timeslice per channel; 0 = 1000 */
	int audit;                /* enum gpusim_audit_mode at creation */
};

#define GPUSIM_DEFAULT_VRAM   (1ull << 30)
#define GPUSIM_DEFAULT_BAR1   (256ull << 20)
#define GPUSIM_DEFAULT_BAR3   (16ull << 20)

/* Create a model; cfg may be NULL for defaults.  Returns NULL with errno set. */
struct gpusim *gpusim_create(const struct gpusim_config *cfg);
struct gpu_hw *gpusim_hw(struct gpusim *sim);
/* Same as gpu_hw_destroy(gpusim_hw(sim)). */
void gpusim_destroy(struct gpusim *sim);
/* The gpusim behind a gpu_hw, or NULL if hw is not a gpusim. */
struct gpusim *gpusim_from_hw(struct gpu_hw *hw);

/*
 * Parse "sim[,vram=SIZE][,timeslice=US][,audit=count|enforce]" (SIZE with
 * K/M/G suffix) into cfg.
 * Returns 0, or -EINVAL with a message in err (errlen bytes).
 */
int gpusim_parse_spec(const char *spec, struct gpusim_config *cfg, char *err, size_t errlen);

/* ---- Audit oracle -------------------------------------------------------
 * The host tells gpusim which physical VRAM ranges each channel may touch.
 * While the audit is on, every engine access that a channel makes through
 * its virtual address space (GPFIFO and pushbuffer fetch, semaphores,
 * copies, kernel code, constant and global memory) is checked against the
 * channel's ranges; each access outside them counts one violation and is
 * performed (GPUSIM_AUDIT_COUNT) or refused as a fault (GPUSIM_AUDIT_ENFORCE).
 * A channel with no ranges may touch nothing.
 */
enum gpusim_audit_mode { GPUSIM_AUDIT_OFF, GPUSIM_AUDIT_COUNT, GPUSIM_AUDIT_ENFORCE };

struct gpusim_range {
	uint64_t base;
	uint64_t size;
};

#define GPUSIM_AUDIT_MAX_RANGES 16

void gpusim_audit_mode(struct gpusim *sim, enum gpusim_audit_mode mode);
int gpusim_audit_set(struct gpusim *sim, unsigned chid, const struct gpusim_range *r, unsigned n);
void gpusim_audit_clear(struct gpusim *sim, unsigned chid);
uint64_t gpusim_audit_violations(struct gpusim *sim, unsigned chid);
/* Every violation since the model was created (clearing a channel keeps them). */
uint64_t gpusim_audit_total(struct gpusim *sim);
enum gpusim_audit_mode gpusim_audit_get_mode(struct gpusim *sim);

/* ---- Statistics ---------------------------------------------------------- */
struct gpusim_stats {
	uint64_t unmodeled_reads;     /* BAR0 reads of registers gpusim does not model */
	uint64_t unmodeled_writes;
	uint64_t bad_pramin;          /* PRAMIN accesses beyond VRAM */
	uint64_t methods;             /* pushbuffer methods executed */
	uint64_t unknown_methods;     /* methods of a bound class that gpusim ignores */
	uint64_t launches;            /* compute launches completed */
	uint64_t thread_insns;        /* compute thread-instructions executed */
	uint64_t copy_bytes;          /* bytes moved by M2MF and PCOPY */
	uint64_t faults;              /* VM faults recorded */
	uint64_t pbdma_errors;
	uint64_t tlb_flushes;
	uint64_t channel_switches;
};

void gpusim_get_stats(struct gpusim *sim, struct gpusim_stats *out);
/* Last unmodeled BAR0 address accessed (for test messages), or ~0u. */
uint32_t gpusim_last_unmodeled(struct gpusim *sim);

#endif
