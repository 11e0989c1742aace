/*
 * The gpuvm para-virtual (PV) interface, version 1: how a guest driver asks
 * gpuvmd for page-table and channel operations instead of having its
 * register and page-table writes trapped.  Normative reference:
 * docs/pv-protocol.md.
 *
 * The interface is one 4 KiB page of registers and a request area in the
 * guest's own VRAM partition (memory guest and daemon already share).  The
 * register page is BAR4 of the vGPU (vgpu_io bar GPUVM_PV_BAR); transports
 * that carry only BAR0/1/3 (the local backend) reach the same page at
 * GPUVM_PV_BAR0_BASE in BAR0, an offset no NVC0 unit decodes.
 *
 * The guest reads GPUVM_PV_ID first; anything but GPUVM_PV_MAGIC means "no
 * PV interface" (a native GPU).  GPUVM_PV_MODE then says which path the
 * driver takes.
 */
#ifndef GPUVM_PV_H
#define GPUVM_PV_H

#include <stdint.h>

#define GPUVM_PV_MAGIC          0x56505647u     /* "GVPV" */
#define GPUVM_PV_VERSION        1u
#define GPUVM_PV_BAR            4u
#define GPUVM_PV_BAR0_BASE      0x00ff0000u
#define GPUVM_PV_REGS_SIZE      0x1000u

/* ---- registers (offsets in the PV page; 32-bit accesses only) ------------ */
#define GPUVM_PV_ID             0x000   /* RO  GPUVM_PV_MAGIC */
#define GPUVM_PV_VER            0x004   /* RO  GPUVM_PV_VERSION */
#define GPUVM_PV_MODE           0x008   /* RO  current mode (GPUVM_PV_MODE_*) */
#define GPUVM_PV_PENDING        0x00c   /* RO  mode after the next quiescent point */
#define GPUVM_PV_FEATURES       0x010   /* RO  GPUVM_PV_F_* */
#define GPUVM_PV_MAX_BATCH      0x014   /* RO  entries one doorbell may carry */
#define GPUVM_PV_AREA_LO        0x018   /* RW  request area, guest physical, 4 KiB aligned */
#define GPUVM_PV_AREA_HI        0x01c   /* RW */
#define GPUVM_PV_AREA_SIZE      0x020   /* RW  bytes, multiple of 4 KiB, <= GPUVM_PV_AREA_MAX;
					 *     writing it (re)arms the area; 0 disarms */
#define GPUVM_PV_DOORBELL       0x024   /* WO  run entries [FIRST, FIRST + value) */
#define GPUVM_PV_FIRST          0x028   /* RW  index of the first entry of the next batch */
#define GPUVM_PV_STATUS         0x02c   /* RO  last doorbell: 0 all done, N > 0 entries failed,
					 *     negative errno: batch refused, nothing done */
#define GPUVM_PV_RESULT         0x030   /* RO  handle made by the last AS_CREATE that succeeded */
#define GPUVM_PV_SWITCH         0x034   /* WO  GPUVM_PV_SWITCH_NOW: apply the pending mode now */
#define GPUVM_PV_RUN            0x038   /* RO  (GPUVM_PV_F_RUN) run the entries from FIRST whose
					 *     status is GPUVM_PV_ST_NEW, up to the first that is
					 *     not; returns what STATUS then holds */
#define GPUVM_PV_FRESH          0x03c   /* RO  (GPUVM_PV_F_FRESH) 1: nothing has written the
					 *     partition since it was last scrubbed (all zero) */
#define GPUVM_PV_RESET          0x040   /* WO  (GPUVM_PV_F_RESET) GPUVM_PV_RESET_NOW: if no channel
					 *     is bound and no PV space lives, reset the vGPU to its
					 *     power-on state (partition scrubbed, FRESH 1); STATUS
					 *     then 0, else -EBUSY and nothing changed */

#define GPUVM_PV_MODE_FULL      0u
#define GPUVM_PV_MODE_PV_NAIVE  1u
#define GPUVM_PV_MODE_PV        2u

#define GPUVM_PV_F_OPS          (1u << 0)   /* the operations below are served (pv modes) */
#define GPUVM_PV_F_BATCH        (1u << 1)   /* more than one entry per doorbell */
#define GPUVM_PV_F_DAEMON_PT    (1u << 2)   /* channel page tables are the daemon's */
/* Version 1 extensions (pv mode only; a guest uses each only if its bit is set): */
#define GPUVM_PV_F_RUN          (1u << 3)   /* the RUN register: a batch in one read */
#define GPUVM_PV_F_CHAN_RUN     (1u << 4)   /* CHAN_BIND takes GPUVM_PV_CHAN_RUN */
#define GPUVM_PV_F_SUBMIT       (1u << 5)   /* the SUBMIT operation */
#define GPUVM_PV_F_BAR_COHERENT (1u << 6)   /* BAR writes need no BAR flush */
#define GPUVM_PV_F_FRESH        (1u << 7)   /* the FRESH register (every mode, full too) */
#define GPUVM_PV_F_RESET        (1u << 8)   /* the RESET register (every mode, full too) */

#define GPUVM_PV_SWITCH_NOW     0x53574954u /* "TIWS": drop every channel and space, switch */
#define GPUVM_PV_RESET_NOW      0x54535352u /* "RSST": reset an idle vGPU */

#define GPUVM_PV_AREA_MAX       (1u << 20)
#define GPUVM_PV_BATCH_MAX      4096u

/* ---- one request (64 bytes, little-endian, in the request area) ---------- */
struct gpuvm_pv_req {
	uint32_t op;            /* GPUVM_PV_OP_* */
	int32_t status;         /* daemon: 0 or -errno; guest writes GPUVM_PV_ST_NEW */
	uint32_t handle;        /* address space (AS_CREATE returns it here) */
	uint32_t flags;         /* MAP/UNMAP: GPUVM_PV_MAP_*; CHAN_*: virtual channel id */
	uint64_t va;            /* GPU virtual address */
	uint64_t addr;          /* guest physical address */
	uint64_t size;          /* bytes */
	uint64_t reserved[3];   /* zero */
};

#define GPUVM_PV_REQ_SIZE       64u
#define GPUVM_PV_ST_NEW         1           /* not yet processed */

enum gpuvm_pv_op {
	GPUVM_PV_OP_NOP = 0,
	GPUVM_PV_OP_AS_CREATE = 1,  /* size = VA limit; handle out */
	GPUVM_PV_OP_AS_DESTROY = 2, /* handle */
	GPUVM_PV_OP_MAP = 3,        /* handle, va, addr, size, flags */
	GPUVM_PV_OP_UNMAP = 4,      /* handle, va, size, flags (page size) */
	GPUVM_PV_OP_FLUSH = 5,      /* handle */
	GPUVM_PV_OP_CHAN_BIND = 6,  /* handle, flags = vchid, addr = instance block */
	GPUVM_PV_OP_CHAN_UNBIND = 7,/* flags = vchid */
	GPUVM_PV_OP_BAR_MAP = 8,    /* handle = BAR (1 or 3), va = BAR offset, addr, size, flags */
	GPUVM_PV_OP_BAR_UNMAP = 9,  /* handle = BAR, va = BAR offset, size, flags (page size) */
	GPUVM_PV_OP_SUBMIT = 10,    /* (GPUVM_PV_F_SUBMIT) flags = vchid, va = new GP_PUT */
	GPUVM_PV_OP_COUNT
};

#define GPUVM_PV_MAP_LARGE      (1u << 0)   /* 128 KiB pages (else 4 KiB) */
#define GPUVM_PV_MAP_RO         (1u << 1)   /* read-only */
#define GPUVM_PV_MAP_FLAGS      (GPUVM_PV_MAP_LARGE | GPUVM_PV_MAP_RO)

#define GPUVM_PV_VA_MAX         (1ull << 40)

/* CHAN_BIND flags: the virtual channel id, and (GPUVM_PV_F_CHAN_RUN) this bit:
 * the channel is also made runnable and put on the vGPU's runlist; its
 * CHAN_UNBIND then takes it off the runlist again. */
#define GPUVM_PV_CHAN_RUN       (1u << 31)

#endif
