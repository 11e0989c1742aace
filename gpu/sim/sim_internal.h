/*
 * gpusim internals shared by the unit files.  Each file owns one hardware
 * unit (sim_pmc.c, sim_pbus.c, sim_mmu.c, sim_fifo.c, ...); this header holds
 * the model state and the few calls between units.
 *
 * Locking: sim->lock guards registers, the channel table, the runlist,
 * interrupts and fault records.  The GPU thread owns every channel's fetch
 * and engine state (struct sim_chan_run) and runs methods without the lock.
 * sim->tlb_lock guards the TLB and nests inside sim->lock.
 */
#ifndef GPUSIM_INTERNAL_H
#define GPUSIM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gpusim.h"
#include "nvc0/classes.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"

#define SIM_TLB_ENTRIES     4096
#define SIM_XLATE_SLOTS     16
#define SIM_NO_CHANNEL      (-1)
/* VRAM is split over memfds of this size so a partition can be handed out alone. */
#define SIM_VRAM_CHUNK      (16ull << 20)

/* A GPU virtual address space as an engine sees it. */
struct sim_vm {
	uint64_t pd;        /* page directory, VRAM physical */
	uint64_t limit;     /* last valid virtual address */
	uint64_t inst;      /* instance block, for fault records */
	bool valid;
};

struct sim_tlb_entry {
	uint64_t pd;
	uint64_t vpn;       /* va >> 12 */
	uint64_t phys;      /* 4 KiB page */
	bool valid;
	bool read_only;
};

/*
 * An engine's view of one VM: a small cache of host pointers in front of the
 * shared TLB.  Any TLB flush bumps sim->tlb_gen, which empties every cursor
 * at its next use.  unit and chan say whom a fault is charged to.
 */
struct sim_xlate {
	struct gpusim *sim;
	struct sim_vm vm;
	struct sim_chan *chan;      /* NULL for BAR accesses (not audited) */
	unsigned unit;              /* enum nv_fault_unit */
	unsigned gen;
	struct {
		uint64_t vpn;
		uint8_t *host;
		bool valid;
		bool read_only;
		bool audit_bad;
	} slot[SIM_XLATE_SLOTS];
};

struct sim_m2mf {
	uint64_t in, out, query;
	uint32_t pitch_in, pitch_out, line_length, line_count, query_seq;
	uint64_t push_va;           /* EXEC with PUSH: where DATA goes next */
	uint32_t push_left;         /* bytes still expected through DATA */
	uint32_t push_exec;         /* the EXEC word, for the query after the push */
};

struct sim_pcopy {
	uint64_t in, out, sem;
	uint32_t pitch_in, pitch_out, line_length, line_count, sem_seq;
};

struct sim_cbuf {
	uint64_t addr;
	uint32_t size;
	bool bound;
};

struct sim_compute {
	uint32_t grid[3], block[3], shared_size, start_id;
	uint64_t code, query, cb_addr;
	uint32_t query_seq, cb_size, cb_pos;
	struct sim_cbuf bank[NV90C0_CB_BANKS];
};

/* Per-channel state that only the GPU thread touches. */
struct sim_chan_run {
	unsigned epoch;             /* sim_chan.epoch this state belongs to */
	bool loaded;                /* context read from the instance block */
	uint64_t inst, userd, gp_base;
	unsigned gp_order;
	uint32_t gp_get;
	struct sim_xlate xl;        /* the channel's VM, fetch and engines */
	uint64_t seg_va;            /* current pushbuffer segment */
	uint32_t seg_left;          /* words left in it */
	uint32_t hdr;               /* current method header, while data follows */
	uint32_t mthd, count, op, subc;
	uint32_t subc_class[8];
	uint64_t sem_addr;
	uint32_t sem_seq;
	uint32_t acquire;           /* pending acquire TRIGGER, 0 if none */
	struct sim_m2mf m2mf;
	struct sim_pcopy pcopy;
	struct sim_compute compute;
};

struct sim_chan {
	/* under sim->lock */
	uint32_t inst_reg;
	uint32_t ctrl_reg;
	bool on_runlist;
	bool faulted;
	/* shared */
	atomic_uint epoch;          /* bumped by any channel-table write: reset state */
	atomic_int abort;           /* stop a running kernel (unbind, destroy) */
	/* audit, under audit_lock */
	struct gpusim_range audit[GPUSIM_AUDIT_MAX_RANGES];
	unsigned audit_n;
	atomic_uint_fast64_t violations;
	/* GPU thread only */
	struct sim_chan_run run;
	unsigned chid;
};

struct sim_fault_rec {
	uint32_t w[4];
};

struct gpusim {
	struct gpu_hw hw;
	struct gpusim_config cfg;
	pthread_mutex_t lock;

	/* VRAM */
	int *vram_fds;              /* one memfd per SIM_VRAM_CHUNK */
	unsigned vram_chunks;
	uint8_t *vram;
	uint64_t vram_size;

	/* PMC */
	uint32_t pmc_enable;
	uint32_t pmc_intr_en;
	uint32_t pmc_intr_seen;     /* summary last reported, for edge delivery */
	gpu_irq_fn irq_fn;
	void *irq_arg;

	/* PBUS */
	uint32_t pramin_base;
	uint32_t bar1_inst, bar3_inst, peephole_inst;

	/* MMU */
	pthread_mutex_t tlb_lock;
	struct sim_tlb_entry tlb[SIM_TLB_ENTRIES];
	atomic_uint tlb_gen;
	uint32_t mmu_ctrl, mmu_flush_pd;

	/* PFIFO */
	uint32_t fifo_intr, fifo_intr_en, fifo_enable, userd_base;
	uint32_t runlist_base, runlist_submit;
	uint32_t fault_units;
	struct sim_fault_rec fault[NV_FAULT_UNITS];
	uint32_t pbdma_intr, pbdma_intr_en, pbdma_err_chid, pbdma_err_info;
	uint32_t preempt_chid;
	struct sim_chan chan[NV_PFIFO_CHANNELS];
	int runlist[NV_PFIFO_CHANNELS];
	unsigned runlist_len;

	/* PGRAPH */
	uint32_t pgraph_intr, pgraph_intr_en;
	uint32_t notify_chans[4];
	atomic_int engine_busy;

	/* GPU thread */
	pthread_t thread;
	pthread_cond_t wake;
	bool thread_started;
	atomic_bool stop;
	atomic_int resched;         /* host changed scheduling state */
	atomic_uint kicks;          /* host wrote through a BAR: maybe GP_PUT */
	atomic_int current;         /* channel resident on the GPU thread */
	unsigned rr_next;

	/* audit */
	pthread_mutex_t audit_lock;
	atomic_int audit_mode;
	atomic_uint_fast64_t audit_total;   /* every violation ever, never reset */

	/* statistics (atomics: bumped from both sides) */
	atomic_uint_fast64_t st_unmodeled_reads, st_unmodeled_writes, st_bad_pramin;
	atomic_uint_fast64_t st_methods, st_unknown_methods, st_launches, st_thread_insns;
	atomic_uint_fast64_t st_copy_bytes, st_faults, st_pbdma_errors, st_tlb_flushes;
	atomic_uint_fast64_t st_switches;
	uint32_t last_unmodeled;
};

static inline struct gpusim *sim_of(struct gpu_hw *hw)
{
	return (struct gpusim *)hw;  /* hw is the first member */
}

static inline void stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Methods that set a 40-bit address in two halves. */
static inline void sim_set_hi(uint64_t *v, uint32_t data)
{
	*v = (uint64_t)(data & 0xff) << 32 | (*v & 0xffffffffu);
}

static inline void sim_set_lo(uint64_t *v, uint32_t data)
{
	*v = (*v & ~0xffffffffull) | data;
}

/* ---- BAR0 register units: each returns false for an unmodeled address ---- */
bool sim_pmc_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_pmc_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_pbus_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_pbus_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_pramin_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_pramin_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_fifo_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_fifo_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_pbdma_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_pbdma_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_mmu_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_mmu_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_pgraph_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_pgraph_wr(struct gpusim *sim, uint32_t addr, uint32_t val);
bool sim_misc_rd(struct gpusim *sim, uint32_t addr, uint32_t *val);
bool sim_misc_wr(struct gpusim *sim, uint32_t addr, uint32_t val);

/* ---- VRAM (sim_vram.c) ---------------------------------------------------- */
int sim_vram_init(struct gpusim *sim, uint64_t size);
void sim_vram_fini(struct gpusim *sim);
int sim_vram_chunk_fd(struct gpusim *sim, uint64_t addr, uint64_t *fd_off, uint64_t *len);
static inline bool sim_vram_ok(const struct gpusim *sim, uint64_t addr, uint64_t len)
{
	return addr < sim->vram_size && len <= sim->vram_size - addr;
}
uint32_t sim_vram_rd32(struct gpusim *sim, uint64_t addr);     /* 0 beyond VRAM */
void sim_vram_wr32(struct gpusim *sim, uint64_t addr, uint32_t val);
uint64_t sim_vram_rd64(struct gpusim *sim, uint64_t addr);
/* Ordered 32-bit store for values a CPU polls (semaphores, GP_GET). */
void sim_store_release32(uint8_t *p, uint32_t val);
uint32_t sim_load_acquire32(const uint8_t *p);

/* ---- PTIMER ---------------------------------------------------------------- */
uint64_t sim_ptimer_now(void);

/* ---- Interrupts (sim_pmc.c); call with sim->lock held ---------------------- */
void sim_irq_update(struct gpusim *sim);

/* ---- MMU (sim_mmu.c) ---------------------------------------------------------- */
/* Read a VM's words from an instance block (0x200..0x20c). */
struct sim_vm sim_vm_from_inst(struct gpusim *sim, uint64_t inst);
/* Translate one address; returns 0 or an enum nv_fault_reason. */
int sim_mmu_translate(struct gpusim *sim, const struct sim_vm *vm, uint64_t va,
		      bool write, uint64_t *phys);
void sim_xlate_init(struct sim_xlate *x, struct gpusim *sim, const struct sim_vm *vm,
		    struct sim_chan *chan, unsigned unit);
/*
 * Host pointer for size bytes at va (size divides 4096 and va is aligned to
 * it; misaligned accesses fault), valid up to the end of va's 4 KiB page.
 * On failure records the fault (channel stopped, or BAR fault) and returns NULL.
 */
uint8_t *sim_xlate(struct sim_xlate *x, uint64_t va, unsigned size, bool write);
/* Record a fault; takes sim->lock.  chan may be NULL (BAR faults). */
void sim_fault(struct gpusim *sim, struct sim_chan *chan, unsigned unit,
	       uint64_t inst, uint64_t va, bool write, int reason);

/* ---- Audit (sim_audit.c) ----------------------------------------------------- */
/* True if [phys, phys+4096) is allowed for chan (or the audit is off). */
bool sim_audit_page_ok(struct gpusim *sim, struct sim_chan *chan, uint64_t phys);

/* ---- PFIFO and the GPU thread ---------------------------------------------- */
int sim_gpu_thread_start(struct gpusim *sim);
void sim_gpu_thread_stop(struct gpusim *sim);
void sim_gpu_wake(struct gpusim *sim);
/* Channel stopped by an error in its command stream (PBDMA). */
void sim_pbdma_error(struct gpusim *sim, struct sim_chan *chan, uint32_t bits, uint32_t info);
void sim_chan_unload_all(struct gpusim *sim);   /* sim->lock held */

/* ---- Method execution (GPU thread) ------------------------------------------- */
enum sim_step {
	SIM_STEP_OK,        /* made progress */
	SIM_STEP_IDLE,      /* no work */
	SIM_STEP_BLOCKED,   /* waiting on a semaphore */
	SIM_STEP_STOPPED,   /* fault or error: channel stopped */
};
enum sim_step sim_host_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data);
enum sim_step sim_acquire_poll(struct gpusim *sim, struct sim_chan *chan);
enum sim_step sim_m2mf_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data);
enum sim_step sim_pcopy_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data);
enum sim_step sim_compute_method(struct gpusim *sim, struct sim_chan *chan, uint32_t mthd, uint32_t data);
/* Release {seq} or {seq, 0, timestamp} at va through the channel's VM. */
enum sim_step sim_release(struct gpusim *sim, struct sim_chan *chan, uint64_t va,
			  uint32_t seq, bool long_form);
/* Copy lines through the channel's VM (M2MF and PCOPY). */
enum sim_step sim_copy_lines(struct gpusim *sim, struct sim_chan *chan, uint64_t src, uint64_t dst,
			     uint32_t pitch_in, uint32_t pitch_out, uint32_t len, uint32_t lines,
			     unsigned unit);

#endif
