/*
 * Test-side NVC0 driver for the gpusim unit tests.
 *
 * Everything here goes through struct gpu_hw only, the way a driver that has
 * read docs/nvc0.md would do it: VRAM through the PRAMIN window, page tables
 * built in VRAM, TLB flushes through 0x100cb8/0x100cbc, channels bound in the
 * channel table and put on the runlist, GP_PUT written into USERD (through
 * PRAMIN or BAR1).  Waits are bounded (T_TIMEOUT_MS): a broken model makes a
 * test fail, never hang.
 */
#ifndef TESTS_SIM_UTIL_H
#define TESTS_SIM_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpu_hw.h"
#include "gpusim.h"
#include "nvc0/classes.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"

#define T_TIMEOUT_MS   5000u
#define T_VRAM_MIB     64u
#define T_MIB          (1ull << 20)

/* First physical address the allocator hands out (PRAMIN tests own 0..1 MiB). */
#define T_ALLOC_START  (1ull << 20)

struct tvm;

struct tdev {
	struct gpusim *sim;
	struct gpu_hw *hw;
	uint64_t vram_size;
	uint64_t next_phys;         /* bump allocator over VRAM */
	uint32_t pramin;            /* cached 0x1700 value; ~0u = unknown */
	bool zero_allocs;           /* clear new allocations (VRAM may be dirty) */
	struct tvm *bar1_vm;        /* BAR1 VM built by tdev_bar1() */
	uint64_t bar1_next;         /* next free BAR1 offset */
	uint64_t runlist[2];        /* two runlist buffers, used alternately */
	unsigned runlist_cur;
	bool on_runlist[NV_PFIFO_CHANNELS];
};

/* ---- Device ------------------------------------------------------------ */
/* A gpusim with vram_mib MiB of VRAM (0 = T_VRAM_MIB) and default BARs. */
struct tdev *tdev_new(unsigned vram_mib);
struct tdev *tdev_new_cfg(const struct gpusim_config *cfg);
void tdev_free(struct tdev *t);
/* cmocka group fixtures: *state = tdev_new(0) / tdev_free(*state). */
int tdev_setup(void **state);
int tdev_teardown(void **state);

uint32_t rd32(struct tdev *t, uint32_t reg);
void wr32(struct tdev *t, uint32_t reg, uint32_t val);
struct gpusim_stats tdev_stats(struct tdev *t);
uint64_t now_ns(void);
/* Polling back-off for iteration iter (spin, then yield, then 20 us naps). */
void poll_pause(unsigned iter);
/* Poll until (reg & mask) == val; false after timeout_ms. */
bool wait_reg(struct tdev *t, uint32_t reg, uint32_t mask, uint32_t val, unsigned timeout_ms);

/* ---- VRAM through PRAMIN ------------------------------------------------ */
/* Physical VRAM, size rounded up to 4 KiB, aligned to align (power of 2). */
uint64_t vram_alloc(struct tdev *t, uint64_t size, uint64_t align);
/* Forget the cached PRAMIN base (after a test moved it itself). */
void pramin_forget(struct tdev *t);
uint32_t vram_rd32(struct tdev *t, uint64_t phys);
void vram_wr32(struct tdev *t, uint64_t phys, uint32_t val);
uint64_t vram_rd64(struct tdev *t, uint64_t phys);
void vram_wr64(struct tdev *t, uint64_t phys, uint64_t val);
void vram_read(struct tdev *t, uint64_t phys, void *buf, size_t len);
void vram_write(struct tdev *t, uint64_t phys, const void *buf, size_t len);
void vram_fill32(struct tdev *t, uint64_t phys, uint32_t val, size_t len);
/*
 * Map the whole VRAM backing (vram_fd, piece by piece) shared into this
 * process; NULL on failure.  Unmap with vram_unmap(p, t->vram_size).
 */
uint8_t *vram_map(struct tdev *t);
void vram_unmap(uint8_t *p, uint64_t size);
/* Poll VRAM until the word equals val; false after timeout_ms. */
bool wait_vram32(struct tdev *t, uint64_t phys, uint32_t val, unsigned timeout_ms);

/* ---- GPU virtual memory -------------------------------------------------- */
struct tvm {
	uint64_t pd;                        /* page directory (64 KiB) */
	uint64_t spt[NV_PDE_COUNT];         /* small-page table per PDE, 0 = none */
	uint64_t lpt[NV_PDE_COUNT];         /* large-page table per PDE, 0 = none */
	uint64_t next_va;                   /* tvm_alloc's bump pointer */
};

struct tbuf {
	uint64_t va;
	uint64_t phys;
	uint64_t size;
};

struct tvm *tvm_new(struct tdev *t);
void tvm_free(struct tvm *vm);
/* Raw PTE writes (the page table is created on first use). */
void tvm_set_spte(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t pte);
void tvm_set_lpte(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t pte);
/* Map [va, va+size) to phys with 4 KiB (map) or 128 KiB (map_large) pages. */
void tvm_map(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t phys, uint64_t size, bool ro);
void tvm_map_large(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t phys, uint64_t size, bool ro);
void tvm_unmap(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t size);
/* Mark the PDE covering va absent (both tables). */
void tvm_clear_pde(struct tdev *t, struct tvm *vm, uint64_t va);
/* Fresh VRAM of size bytes mapped read-write at the next free VA. */
struct tbuf tvm_alloc(struct tdev *t, struct tvm *vm, uint64_t size);
/* Write the PD and limit words (0x200..0x20c) of an instance block. */
void tvm_write_inst(struct tdev *t, struct tvm *vm, uint64_t inst, uint64_t limit);
/* TLB flush of vm's page directory; false if the MMU never reports done. */
bool tvm_flush(struct tdev *t, struct tvm *vm);

/* ---- BARs ------------------------------------------------------------------ */
/* Bind bar (GPU_BAR1/GPU_BAR3) to vm through a new instance block.  Returns it. */
uint64_t tdev_bind_bar(struct tdev *t, enum gpu_bar bar, struct tvm *vm, uint64_t limit);
/* The device's BAR1 VM (created and bound on first use). */
struct tvm *tdev_bar1(struct tdev *t);
/* Map phys (size bytes) into the BAR1 VM; returns the BAR1 offset. */
uint64_t tdev_bar1_map(struct tdev *t, uint64_t phys, uint64_t size);

/* ---- Fault records --------------------------------------------------------- */
struct tfault {
	uint32_t inst, va_lo, va_hi, flags;
};
struct tfault tdev_fault(struct tdev *t, unsigned unit);
void tdev_fault_clear(struct tdev *t, unsigned unit);
uint64_t tfault_va(struct tfault f);

/* ---- Channels --------------------------------------------------------------- */
#define T_GP_ORDER      6               /* 64-entry GPFIFO ring by default */
#define T_PB_SIZE       (256u << 10)
#define T_VA_BASE       0x0020000000ull /* tvm_alloc starts here */

struct tchan {
	struct tdev *t;
	unsigned chid;
	struct tvm *vm;
	bool own_vm;
	uint64_t inst;                  /* instance block (phys) */
	uint64_t userd;                 /* USERD page (phys) */
	struct tbuf gp;                 /* GPFIFO ring */
	unsigned gp_order;
	uint32_t gp_put;                /* next ring index to fill */
	struct tbuf pb;                 /* pushbuffer */
	uint32_t pb_pos, pb_start;      /* bytes: write position, unsubmitted start */
	struct tbuf fence;              /* tchan_sync's semaphore */
	uint32_t fence_seq;
	bool put_via_bar1;              /* doorbell through BAR1 instead of PRAMIN */
	uint64_t userd_bar1;            /* BAR1 offset of USERD (if put_via_bar1) */
};

/*
 * A bound, runnable channel with its own VM (vm NULL) or sharing vm, a
 * 2^gp_order GPFIFO ring and a pushbuffer; not yet on the runlist.
 */
struct tchan *tchan_new_opt(struct tdev *t, unsigned chid, struct tvm *vm, unsigned gp_order);
struct tchan *tchan_new(struct tdev *t, unsigned chid);
/* tchan_new + add to the runlist (fails the test if the commit fails). */
struct tchan *tchan_start(struct tdev *t, unsigned chid);
void tchan_free(struct tchan *ch);
/* Write the channel-table entry (binding or re-binding the channel). */
void tchan_bind(struct tchan *ch);
/* Ring the doorbell through BAR1 (maps USERD into BAR1). */
void tchan_use_bar1(struct tchan *ch);
struct tbuf tchan_buf(struct tchan *ch, uint64_t size);

/* Runlist: commit the given channels / add / remove one (commit waits). */
bool tdev_runlist(struct tdev *t, const unsigned *chids, unsigned n);
bool tdev_runlist_set(struct tdev *t, unsigned chid, bool on);

/* Pushbuffer building (words go to VRAM at once, submitted by tchan_submit). */
void pb_word(struct tchan *ch, uint32_t w);
void pb_hdr(struct tchan *ch, uint32_t op, unsigned subc, uint32_t mthd, uint32_t count);
void pb_mthd(struct tchan *ch, unsigned subc, uint32_t mthd, uint32_t data);
void pb_mthds(struct tchan *ch, unsigned subc, uint32_t mthd, const uint32_t *data, uint32_t n);
void pb_immd(struct tchan *ch, unsigned subc, uint32_t mthd, uint32_t data);
void pb_bind(struct tchan *ch, unsigned subc, uint32_t cls);
void pb_sem_addr(struct tchan *ch, uint64_t va);
void pb_sem_release(struct tchan *ch, uint64_t va, uint32_t seq, bool is_short);
void pb_sem_acquire(struct tchan *ch, uint64_t va, uint32_t seq, uint32_t mode);
/* Submit the words written since the last submit as one GPFIFO entry. */
void tchan_submit(struct tchan *ch);
/* Write one raw GPFIFO entry and advance GP_PUT. */
void tchan_gp_raw(struct tchan *ch, uint32_t e0, uint32_t e1);
void tchan_set_put(struct tchan *ch, uint32_t put);
uint32_t tchan_gp_get(struct tchan *ch);
uint32_t tchan_ctrl(struct tchan *ch);
/* Release the next fence value and wait for it; false on timeout. */
bool tchan_sync(struct tchan *ch);
/* Wait until the channel shows FAULTED; false on timeout. */
bool tchan_wait_faulted(struct tchan *ch);
/* Drop the pending work (GP_GET = GP_PUT in USERD) and re-bind. */
void tchan_recover(struct tchan *ch);

#endif
