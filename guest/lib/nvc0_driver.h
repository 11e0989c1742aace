/*
 * libgpuvm-guest internals: the NVC0 compute driver, one section per
 * hardware unit (nouveau nvkm style).  Each unit's code lives in the file
 * named in its section; the runtime (runtime.c) is the only user of the
 * channel-level functions.
 *
 * Everything the driver builds lives in VRAM [0, size) as reported by the
 * size registers; kernel structures are written through BAR3 (or PRAMIN when
 * BAR3 cannot reach them); page-table changes are always followed by a TLB
 * flush; work is submitted only by writing GP_PUT in USERD through BAR1.
 *
 * Functions return GPUVM_OK or a GPUVM_ERR_* code; the function that first
 * sees a failure records the message (gpuvm_fail), callers pass the code up.
 */
#ifndef GPUVM_NVC0_DRIVER_H
#define GPUVM_NVC0_DRIVER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gpuvm_guest.h"
#include "gpuvm_transport.h"
#include "nvc0/classes.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "range_alloc.h"

#define GPUVM_UNUSED(x) ((void)(x))

/* ---- error.c ------------------------------------------------------------ */
/* Record a message for gpuvm_last_error() and return err. */
int gpuvm_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t gpuvm_now_ns(void);

/* ---- transport.c --------------------------------------------------------- */
int gpuvm_transport_open_native(const char *opts, struct gpuvm_transport **out);

/* ---- Buffers and kernel objects --------------------------------------------- */
struct gpuvm_device;
struct nvc0_vm;

/*
 * A kernel object: driver structure in VRAM (instance block, page directory
 * or table, runlist).  Lives in the BAR3 heap when it fits, so the CPU writes
 * it through BAR3; otherwise it is written through PRAMIN.
 */
struct nvc0_kobj {
	uint64_t phys;
	uint64_t size;
	bool in_heap;
};

/* A buffer object: VRAM mapped into a channel VM and optionally into BAR1. */
struct nvc0_bo {
	struct gpuvm_device *dev;
	uint64_t phys;
	uint64_t size;          /* rounded to the page size */
	unsigned page_shift;    /* NV_SPAGE_SHIFT or NV_LPAGE_SHIFT */
	struct nvc0_vm *vm;     /* NULL until mapped */
	uint64_t va;
	bool bar1_mapped;
	uint64_t bar1;
	unsigned bar1_shift;    /* page size of the BAR1 mapping (nvc0_pv_bar1_shift) */
};

/* ---- nvc0_vm.c: GPU virtual memory --------------------------------------------- */
struct nvc0_channel;

/*
 * How a VM's page tables and channels are managed: by the driver itself
 * through registers and memory (nvc0_vm_hw_ops: native and full
 * virtualisation, and always for the BAR VMs), or by asking gpuvmd through
 * the PV interface (pv_vm.c, the pv modes).  Callers use the nvc0_vm_* and
 * nvc0_channel_* functions and never look at the ops.
 */
struct nvc0_chan_ops {
	int (*bind)(struct nvc0_channel *chan);     /* point the channel table at inst */
	void (*unbind)(struct nvc0_channel *chan);
	int (*before_kick)(struct nvc0_channel *chan);  /* page-table work due before GP_PUT */
	/* Optional: tell the GPU about new GPFIFO entries; NULL = write GP_PUT in USERD. */
	int (*submit)(struct nvc0_channel *chan, uint32_t put);
	/* bind also makes the channel runnable and lists it, and unbind takes it
	 * off the GPU (runlist, stop, preempt): no CHAN_CTRL or runlist writes. */
	bool bind_runs;
	/* Optional, with bind_runs: an unbind that may complete with the next
	 * request batch (not for a kill, whose memory is freed at once). */
	void (*unbind_deferred)(struct nvc0_channel *chan);
};

struct nvc0_vm_ops {
	const char *name;
	int (*create)(struct nvc0_vm *vm);          /* page directory, flushed */
	void (*destroy)(struct nvc0_vm *vm);
	int (*bind_inst)(struct nvc0_vm *vm, const struct nvc0_kobj *inst);
	int (*map)(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		   unsigned page_shift, bool read_only);
	int (*unmap)(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift);
	int (*flush)(struct nvc0_vm *vm);
	const struct nvc0_chan_ops *chan;
};

extern const struct nvc0_vm_ops nvc0_vm_hw_ops;

struct nvc0_pgt {
	struct nvc0_kobj spt;   /* 4 KiB pages, NV_SPT_SIZE bytes; size 0 = absent */
	struct nvc0_kobj lpt;   /* 128 KiB pages, NV_LPT_SIZE bytes */
};

struct nvc0_vm {
	struct gpuvm_device *dev;
	struct nvc0_kobj pd;
	struct nvc0_pgt *pgt[NV_PDE_COUNT];
	struct range_alloc va;
	uint64_t limit;          /* addresses below this are translatable */
	uint32_t flush_type;     /* extra flush bits (HUB_ONLY for BAR VMs) */
	const char *name;        /* for messages */
	const struct nvc0_vm_ops *ops;
	uint32_t pv_handle;      /* PV address space, pv modes */
};

int nvc0_vm_init(struct gpuvm_device *dev, struct nvc0_vm *vm, const char *name,
		 uint64_t va_base, uint64_t limit, bool bar_vm);
void nvc0_vm_fini(struct nvc0_vm *vm);
/* Write the PD address and limit into an instance block. */
int nvc0_vm_bind_inst(struct nvc0_vm *vm, const struct nvc0_kobj *inst);
int nvc0_vm_get_va(struct nvc0_vm *vm, uint64_t size, unsigned page_shift, uint64_t *va);
void nvc0_vm_put_va(struct nvc0_vm *vm, uint64_t va, uint64_t size);
/* Map [va, va+size) to phys with pages of 1 << page_shift, then flush. */
int nvc0_vm_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		unsigned page_shift, bool read_only);
int nvc0_vm_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift);
int nvc0_vm_flush(struct nvc0_vm *vm);
/* The page table of a PDE, created (and its PDE written) on first use. */
int nvc0_vm_table(struct nvc0_vm *vm, unsigned pde, bool large);
int nvc0_vm_hw_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		   unsigned page_shift, bool read_only);
int nvc0_vm_hw_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift);
/* GPUVM_OK if [va, va + size) is page aligned and below the limit (message recorded if not). */
int nvc0_vm_check_range(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift);

/* ---- nvc0_pramin.c: the PRAMIN window (device lock held by callers or taken) -- */
int nvc0_pramin_read(struct gpuvm_device *dev, uint64_t addr, void *buf, size_t len);
int nvc0_pramin_write(struct gpuvm_device *dev, uint64_t addr, const void *buf, size_t len);
int nvc0_pramin_fill(struct gpuvm_device *dev, uint64_t addr, uint32_t word, size_t len);
void nvc0_pramin_forget(struct gpuvm_device *dev);

/* ---- nvc0_instmem.c: kernel objects through BAR3 or PRAMIN --------------------- */
struct nvc0_instmem {
	uint64_t heap_phys;      /* VRAM mapped linearly at BAR3 offset 0 */
	uint64_t heap_size;
	struct range_alloc heap;
	/* Heap bytes never handed out since a fresh bring-up: known zero. */
	struct range_alloc clean;
	bool clean_valid;
	bool bar3_ready;
};

int nvc0_instmem_init(struct gpuvm_device *dev);
void nvc0_instmem_fini(struct gpuvm_device *dev);
/* Allocate a zeroed kernel object (align: power of two, >= 4 KiB). */
int nvc0_kobj_new(struct gpuvm_device *dev, uint64_t size, uint64_t align, struct nvc0_kobj *obj);
void nvc0_kobj_del(struct gpuvm_device *dev, struct nvc0_kobj *obj);
int nvc0_kobj_write(struct gpuvm_device *dev, const struct nvc0_kobj *obj, uint64_t off,
		    const void *buf, size_t len);
int nvc0_kobj_read(struct gpuvm_device *dev, const struct nvc0_kobj *obj, uint64_t off,
		   void *buf, size_t len);
int nvc0_kobj_wr32(struct gpuvm_device *dev, const struct nvc0_kobj *obj, uint64_t off, uint32_t v);

/* ---- nvc0_vram.c: VRAM allocator and buffer objects ----------------------------- */
int nvc0_vram_init(struct gpuvm_device *dev);
void nvc0_vram_fini(struct gpuvm_device *dev);
int nvc0_vram_get(struct gpuvm_device *dev, uint64_t size, uint64_t align, uint64_t *phys);
void nvc0_vram_put(struct gpuvm_device *dev, uint64_t phys, uint64_t size);
/* Page size the driver uses for a buffer of this size. */
unsigned nvc0_bo_page_shift(uint64_t size);
int nvc0_bo_new(struct gpuvm_device *dev, uint64_t size, struct nvc0_bo *bo);
int nvc0_bo_map(struct nvc0_bo *bo, struct nvc0_vm *vm, bool read_only);
int nvc0_bo_map_bar1(struct nvc0_bo *bo);
/* Unmaps everywhere and frees the VRAM; safe on a zeroed bo. */
void nvc0_bo_del(struct nvc0_bo *bo);

/* ---- nvc0_bar.c: BAR1 and BAR3 VMs ------------------------------------------------- */
struct nvc0_bar {
	struct nvc0_kobj inst;
	struct nvc0_vm vm;
	uint64_t size;
	bool bound;
};

/* BAR3 is set up before instmem (its tables go through PRAMIN). */
int nvc0_bar3_init(struct gpuvm_device *dev, uint64_t heap_phys, uint64_t heap_size);
int nvc0_bar1_init(struct gpuvm_device *dev);
void nvc0_bar_fini(struct gpuvm_device *dev, struct nvc0_bar *bar, uint32_t bind_reg);
int nvc0_bar1_write(struct gpuvm_device *dev, uint64_t off, const void *buf, size_t len);
int nvc0_bar1_read(struct gpuvm_device *dev, uint64_t off, void *buf, size_t len);
void nvc0_bar_flush(struct gpuvm_device *dev);

/* ---- nvc0_fifo.c: PFIFO, channel ids, runlist, USERD area -------------------------- */
struct nvc0_channel;

struct nvc0_fifo {
	struct nvc0_channel *chan[NV_PFIFO_CHANNELS];
	unsigned nchan;
	struct nvc0_kobj runlist[2];    /* written alternately */
	unsigned runlist_cur;
	struct nvc0_bo userd;           /* NV_PFIFO_CHANNELS pages, in BAR1 */
};

int nvc0_fifo_init(struct gpuvm_device *dev);
void nvc0_fifo_fini(struct gpuvm_device *dev);
int nvc0_fifo_chid_get(struct gpuvm_device *dev, struct nvc0_channel *chan, int *chid);
void nvc0_fifo_chid_put(struct gpuvm_device *dev, int chid);
/* Rewrite the runlist from the channels currently registered. */
int nvc0_fifo_runlist_update(struct gpuvm_device *dev);
uint64_t nvc0_fifo_userd_phys(struct gpuvm_device *dev, int chid);
uint64_t nvc0_fifo_userd_bar1(struct gpuvm_device *dev, int chid);
/* Take a channel off the GPU (preempt) and wait for it. */
int nvc0_fifo_kick(struct gpuvm_device *dev, int chid);

/* ---- nvc0_channel.c / nvc0_pushbuf.c / nvc0_fence.c ------------------------------ */
#define NVC0_GPFIFO_ORDER      9                   /* 512 entries */
#define NVC0_PUSHBUF_SIZE      (256u << 10)
#define NVC0_SEGMENT_WORDS     16384u              /* longest single submission */
#define NVC0_FENCE_WORDS       5u                  /* header + 4 semaphore methods */

struct nvc0_channel {
	struct gpuvm_device *dev;
	struct nvc0_vm *vm;
	const struct nvc0_chan_ops *ops;
	bool pv_bound;                 /* bound through the PV interface */
	int chid;
	bool registered;
	struct nvc0_kobj inst;
	uint64_t userd_bar1;
	struct nvc0_bo gpfifo;
	struct nvc0_bo pushbuf;
	struct nvc0_bo sem;            /* fence value at offset 0 */
	uint32_t gp_put;
	uint32_t gp_get_seen;          /* last GP_GET read from USERD */
	uint32_t pb_put;               /* byte offset of the next segment */
	uint32_t *cmd;                 /* words of the segment being built */
	uint32_t cmd_len;
	bool cmd_overflow;
	uint32_t seq_emitted;
	uint32_t seq_done;
	unsigned timeout_ms;
	int fault_err;                 /* sticky: FAULTED once stopped, TIMEOUT once killed */
	char fault_msg[256];
};

int nvc0_channel_new(struct gpuvm_device *dev, struct nvc0_vm *vm, struct nvc0_channel *chan);
void nvc0_channel_del(struct nvc0_channel *chan);
/*
 * Take a channel off the GPU for good (runlist, preempt, unbind: a running
 * kernel is aborted) but keep its memory, so that buffers may be freed
 * safely after a timeout.
 */
void nvc0_channel_kill(struct nvc0_channel *chan);

/* Method emission into the segment being built (nvc0_pushbuf.c). */
void nvc0_pb_mthd(struct nvc0_channel *chan, unsigned subc, uint32_t mthd, uint32_t data);
void nvc0_pb_mthd_list(struct nvc0_channel *chan, unsigned subc, uint32_t mthd,
		       const uint32_t *data, uint32_t n);
void nvc0_pb_mthd_noninc(struct nvc0_channel *chan, unsigned subc, uint32_t mthd,
			 const uint32_t *data, uint32_t n);
/* Words still free in the current segment. */
uint32_t nvc0_pb_room(const struct nvc0_channel *chan);
/*
 * Submit the current segment with a fence appended: pushbuffer, GPFIFO
 * entry, GP_PUT.  Afterwards chan->seq_emitted is the submission's fence.
 */
int nvc0_pb_kick(struct nvc0_channel *chan);
/* Drop the segment being built (after a failure while building it). */
void nvc0_pb_discard(struct nvc0_channel *chan);

/* Fences (nvc0_fence.c).  emit is called by nvc0_pb_kick only. */
void nvc0_fence_emit(struct nvc0_channel *chan, uint32_t *seq);
int nvc0_fence_wait(struct nvc0_channel *chan, uint32_t seq);
/* Kick what is pending and wait: everything submitted so far is done. */
int nvc0_channel_sync(struct nvc0_channel *chan);
/* GPUVM_OK, or GPUVM_ERR_FAULTED (with a message) if the channel was stopped. */
int nvc0_channel_check(struct nvc0_channel *chan);
/*
 * Poll until done(arg) is true, checking the channel for faults and the
 * timeout on the way.  what names the wait in messages.
 */
int nvc0_channel_poll(struct nvc0_channel *chan, bool (*done)(struct nvc0_channel *, void *),
		      void *arg, const char *what);

/* ---- nvc0_copy.c: M2MF ----------------------------------------------------------- */
int nvc0_m2mf_copy(struct nvc0_channel *chan, uint64_t dst, uint64_t src, uint64_t len);
/* Fill with the contents of one 4 KiB page at src (source pitch 0). */
int nvc0_m2mf_fill_page(struct nvc0_channel *chan, uint64_t dst, uint64_t src_page, uint64_t len);

/* ---- nvc0_compute.c: COMPUTE ------------------------------------------------------ */
struct nvc0_launch {
	uint64_t code_va;
	uint32_t entry_offset;          /* bytes */
	uint32_t grid[3], block[3];
	uint32_t shared_bytes;
	uint64_t cb_va;                 /* parameter constant buffer */
	uint32_t cb_size;
	const uint32_t *params;
	uint32_t param_words;
};

int nvc0_compute_bind(struct nvc0_channel *chan);
int nvc0_compute_launch(struct nvc0_channel *chan, const struct nvc0_launch *l);

/* ---- pv_*.c: the para-virtual interface (include/gpuvm_pv.h) ------------------------ */
struct gpuvm_pv_req;

struct nvc0_pv {
	bool probed;
	bool present;                   /* the GPU has a PV register page */
	uint32_t mode;                  /* GPUVM_PV_MODE_* read at the last probe */
	uint32_t max_batch;
	struct nvc0_bo area;            /* request area in VRAM, through BAR1 */
	bool area_ready;
	uint32_t features;              /* GPUVM_PV_F_* of the current mode */
	struct gpuvm_pv_req *queue;     /* requests not yet sent (pv mode batches), + terminator */
	unsigned queued;
	/* Queued requests the CPU's next BAR access must not overtake: BAR_MAPs
	 * (the BAR offsets they cover, per BAR: [0] BAR1, [1] BAR3; lo == hi
	 * none), which an access to those offsets needs, and a CHAN_UNBIND,
	 * whose memory any access may be reusing. */
	uint64_t mapping_lo[2], mapping_hi[2];
	bool unbind_queued;
	int32_t last_status;            /* STATUS of the last doorbell */
	uint64_t doorbells, requests;   /* statistics */
};

/* The ops for a new channel VM: PV ones if the vGPU is in a pv mode now, else NULL. */
const struct nvc0_vm_ops *nvc0_pv_vm_ops(struct gpuvm_device *dev);
/* The ops for a BAR VM: the driver's own, with PTE writes done by gpuvmd in the pv modes. */
const struct nvc0_vm_ops *nvc0_pv_bar_vm_ops(void);
void nvc0_pv_fini(struct gpuvm_device *dev);
/* pv_queue.c: the mode now (reads the mode register; sets up the request area). */
uint32_t nvc0_pv_mode(struct gpuvm_device *dev);
/* Queue a request (sent at once in pv-naive), send the queue, or both. */
int nvc0_pv_queue(struct gpuvm_device *dev, const struct gpuvm_pv_req *r);
int nvc0_pv_send(struct gpuvm_device *dev);
/* Queue r and send the queue; *handle (if not NULL) is r's handle as the daemon left it. */
int nvc0_pv_call(struct gpuvm_device *dev, const struct gpuvm_pv_req *r, uint32_t *handle);
/* Whether the GPU says its VRAM is all zero, untouched since it was scrubbed (FRESH). */
bool nvc0_pv_vram_fresh(struct gpuvm_device *dev);
/*
 * Before a CPU access of [off, off + len) through BAR bar (1 or 3; 0 for
 * PRAMIN, which needs no mapping): send the queue if it holds what the
 * access must not overtake.
 */
int nvc0_pv_bar_sync(struct gpuvm_device *dev, unsigned bar, uint64_t off, uint64_t len);
/* pv_vm.c: note a queued BAR_MAP of BAR bar (1 or 3) over [off, off + len). */
void nvc0_pv_note_mapping(struct gpuvm_device *dev, unsigned bar, uint64_t off, uint64_t len);
/* Whether the vGPU offers a GPUVM_PV_F_* extension now (false off a pv mode). */
bool nvc0_pv_has(struct gpuvm_device *dev, uint32_t feature);
/* Page size for a new BAR1 mapping of a buffer whose own page size is page_shift. */
unsigned nvc0_pv_bar1_shift(struct gpuvm_device *dev, unsigned page_shift);
/* Whether the last batch was refused because the vGPU had changed its mode. */
bool nvc0_pv_switched(struct gpuvm_device *dev);
/* -EPERM: the vGPU is in full mode now; -EOPNOTSUPP: RUN was read in pv-naive. */
static inline bool nvc0_pv_refused_by_mode(int32_t status)
{
	return status == -EPERM || status == -EOPNOTSUPP;
}

/* ---- nvc0_device.c: the device --------------------------------------------------- */
struct gpuvm_device {
	struct gpuvm_device *next;      /* process-wide list of open devices */
	int refs;
	struct gpuvm_transport *tp;
	pthread_mutex_t lock;           /* recursive; guards everything below */
	bool up;                        /* driver brought the GPU up */
	uint32_t boot0;
	uint64_t vram_size;
	bool pramin_known;
	/* During bring-up: VRAM not yet handed out since the device came up is
	 * known to be zero (the vGPU said FRESH), so new objects need no fill. */
	bool vram_fresh;
	bool raw_written;        /* gpuvm_raw_* wrote the GPU: never reset it under the caller */
	uint64_t pramin_base;
	struct range_alloc vram;
	struct nvc0_instmem imem;
	struct nvc0_bar bar3;
	struct nvc0_bar bar1;
	struct nvc0_fifo fifo;
	struct nvc0_pv pv;
};

void nvc0_lock(struct gpuvm_device *dev);
void nvc0_unlock(struct gpuvm_device *dev);
/* Bring the GPU up on first use (idempotent). */
int nvc0_device_up(struct gpuvm_device *dev);
int nvc0_device_ref(struct gpuvm_device *dev);
uint64_t nvc0_vram_size_from_regs(struct gpuvm_transport *tp);
/* Poll a register until (v & mask) == want, bounded. */
int nvc0_wait_reg(struct gpuvm_device *dev, uint32_t reg, uint32_t mask, uint32_t want,
		  unsigned timeout_ms, const char *what);
/* Poll a register until any bit of mask is set, bounded. */
int nvc0_wait_reg_any(struct gpuvm_device *dev, uint32_t reg, uint32_t mask,
		      unsigned timeout_ms, const char *what);

static inline uint32_t nvc0_rd32(struct gpuvm_device *dev, uint32_t reg)
{
	return dev->tp->ops->rd32(dev->tp, reg);
}

static inline void nvc0_wr32(struct gpuvm_device *dev, uint32_t reg, uint32_t val)
{
	dev->tp->ops->wr32(dev->tp, reg, val);
}

static inline uint64_t nvc0_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

#endif
