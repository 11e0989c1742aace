/*
 * NVC0 (Fermi, GF100) BAR0 register map: the subset gpuvm touches.
 *
 * Shared by gpusim (which models these registers), the host driver, the
 * guest library and gpuvmd (which traps them).  Where the public sources do
 * not pin a detail down, the value used by gpusim is marked "gpusim:" and is
 * the contract every component of this project follows.
 */
#ifndef NVC0_REGS_H
#define NVC0_REGS_H

/* ---- PMC ---------------------------------------------------------------- */
#define NV_PMC_BOOT0                0x000000
#define   NV_PMC_BOOT0_GF100        0x0c0000a3u
#define   NV_PMC_BOOT0_CHIPSET(v)   (((v) >> 20) & 0x1ff)
#define NV_PMC_ENDIAN               0x000004
#define NV_PMC_INTR                 0x000100
#define NV_PMC_INTR_EN              0x000140
#define   NV_PMC_INTR_EN_HW         (1u << 0)
#define   NV_PMC_INTR_EN_SW         (1u << 1)
#define NV_PMC_ENABLE               0x000200

/* Unit bits shared by NV_PMC_INTR and NV_PMC_ENABLE. */
#define NV_PMC_UNIT_PCOPY0          (1u << 6)   /* ENABLE; INTR uses bit 5 */
#define NV_PMC_UNIT_PCOPY1          (1u << 7)
#define NV_PMC_UNIT_PFIFO           (1u << 8)
#define NV_PMC_UNIT_PGRAPH          (1u << 12)
#define NV_PMC_UNIT_PTIMER          (1u << 16)
#define NV_PMC_INTR_PCOPY0          (1u << 5)
#define NV_PMC_INTR_PCOPY1          (1u << 6)
#define NV_PMC_INTR_PFIFO           (1u << 8)
#define NV_PMC_INTR_PGRAPH          (1u << 12)
#define NV_PMC_INTR_PTIMER          (1u << 20)
#define NV_PMC_INTR_PBUS            (1u << 28)
#define NV_PMC_INTR_SOFTWARE        (1u << 31)

/* ---- PBUS: PRAMIN window and BAR bindings -------------------------------- */
#define NV_PBUS_PRAMIN_BASE         0x001700    /* bits 0-23: addr >> 16 */
#define   NV_PBUS_PRAMIN_SHIFT      16
#define   NV_PBUS_PRAMIN_ADDR_MASK  0x00ffffffu
#define NV_PBUS_BAR1_INST           0x001704
#define NV_PBUS_BAR3_INST           0x001714
#define NV_PBUS_PEEPHOLE_INST       0x001718
#define   NV_PBUS_BAR_INST_MASK     0x0fffffffu /* instance >> 12 */
#define   NV_PBUS_BAR_TARGET(v)     (((v) >> 28) & 3)
#define   NV_PBUS_BAR_VM            (1u << 31)
#define NV_PRAMIN_WINDOW            0x700000
#define NV_PRAMIN_WINDOW_SIZE       0x100000
#define NV_BAR_FLUSH                0x070000
#define   NV_BAR_FLUSH_TRIGGER      (1u << 0)
#define   NV_BAR_FLUSH_BUSY         (1u << 1)

/* ---- PFIFO ---------------------------------------------------------------- */
#define NV_PFIFO_CHANNELS           128
#define NV_PFIFO_INTR               0x002100
#define NV_PFIFO_INTR_EN            0x002140
#define   NV_PFIFO_INTR_VM_FAULT    (1u << 28)
#define   NV_PFIFO_INTR_PBDMA       (1u << 29)
#define   NV_PFIFO_INTR_RUNLIST     (1u << 30)
#define NV_PFIFO_ENABLE             0x002200
#define NV_PFIFO_USERD_BASE         0x002254    /* BAR1 offset >> 12 */
#define   NV_PFIFO_USERD_ADDR_MASK  0x0fffffffu
#define   NV_PFIFO_USERD_VALID      (1u << 28)
#define NV_PFIFO_RUNLIST_BASE       0x002270
#define NV_PFIFO_RUNLIST_SUBMIT     0x002274    /* bits 0-11 count; write commits */
#define   NV_PFIFO_RUNLIST_COUNT(v) ((v) & 0xfff)
#define NV_PFIFO_RUNLIST_STATUS     0x00227c
#define   NV_PFIFO_RUNLIST_PENDING  (1u << 20)
#define NV_PFIFO_FAULT_UNITS        0x00259c    /* gpusim: bit per unit with a pending record, W1C */
#define NV_PFIFO_PREEMPT            0x002634
#define   NV_PFIFO_PREEMPT_PENDING  (1u << 20)  /* gpusim: set in the read-back while pending */
#define NV_PFIFO_FAULT(unit)        (0x002800 + (unit) * 0x10)
#define   NV_FAULT_INST             0x0         /* instance >> 12 */
#define   NV_FAULT_VA_LO            0x4
#define   NV_FAULT_VA_HI            0x8
#define   NV_FAULT_FLAGS            0xc
/* gpusim: layout of the flags word of a fault record. */
#define   NV_FAULT_FLAGS_REASON(v)  ((v) & 0xf)
#define   NV_FAULT_FLAGS_WRITE      (1u << 7)
#define   NV_FAULT_FLAGS_CHID(v)    (((v) >> 8) & 0x7f)
#define   NV_FAULT_FLAGS_VALID      (1u << 31)
enum nv_fault_reason {
	NV_FAULT_PDE = 1,        /* page directory entry absent */
	NV_FAULT_PTE = 2,        /* page table entry not valid */
	NV_FAULT_RO = 3,         /* write to a read-only page */
	NV_FAULT_LIMIT = 4,      /* beyond the VM limit */
	NV_FAULT_APERTURE = 5,   /* target gpusim has no memory for (sysmem) */
	NV_FAULT_ALIGN = 6,      /* misaligned access */
	NV_FAULT_AUDIT = 7,      /* refused by the gpusim audit (enforcing) */
};
/* gpusim: fault unit numbers (index into NV_PFIFO_FAULT). */
enum nv_fault_unit {
	NV_FAULT_UNIT_PGRAPH = 0,   /* compute and M2MF */
	NV_FAULT_UNIT_BAR1 = 4,
	NV_FAULT_UNIT_BAR3 = 5,
	NV_FAULT_UNIT_PFIFO = 7,    /* GPFIFO/pushbuffer fetch, semaphores */
	NV_FAULT_UNIT_PCOPY0 = 13,
	NV_FAULT_UNITS = 16,
};

#define NV_PFIFO_CHAN_INST(ch)      (0x003000 + (ch) * 8)
#define   NV_CHAN_INST_ADDR_MASK    0x0fffffffu
#define   NV_CHAN_INST_POLL         (1u << 30)
#define   NV_CHAN_INST_VALID        (1u << 31)
#define NV_PFIFO_CHAN_CTRL(ch)      (0x003004 + (ch) * 8)
#define   NV_CHAN_CTRL_RUNNABLE     (1u << 0)
#define   NV_CHAN_CTRL_LOADED       (1u << 12)  /* read-only: resident on the engines */
#define   NV_CHAN_CTRL_FAULTED      (1u << 24)  /* gpusim, read-only: stopped by a fault */
#define   NV_CHAN_CTRL_PENDING      (1u << 28)  /* read-only: GP_GET != GP_PUT */

/* PBDMA 0 (gpusim models one). */
#define NV_PBDMA_INTR               0x040108    /* W1C */
#define NV_PBDMA_INTR_EN            0x04010c
#define   NV_PBDMA_INTR_GPFIFO      (1u << 0)   /* gpusim: bad GPFIFO entry (zero length) */
#define   NV_PBDMA_INTR_METHOD      (1u << 1)   /* gpusim: bad method / header / subchannel */
#define   NV_PBDMA_INTR_OBJECT      (1u << 2)   /* gpusim: SET_OBJECT with an unknown class */
#define NV_PBDMA_ERR_CHID           0x040110    /* gpusim: channel of the last error */
#define NV_PBDMA_ERR_INFO           0x040114    /* gpusim: what failed (docs/gpusim.md, PFIFO) */

/* ---- PGRAPH ----------------------------------------------------------------- */
#define NV_PGRAPH_INTR              0x400100    /* W1C */
#define   NV_PGRAPH_INTR_NOTIFY     (1u << 0)
#define NV_PGRAPH_INTR_EN           0x40013c
#define NV_PGRAPH_NOTIFY_CHANS(i)   (0x400110 + (i) * 4) /* gpusim: 4 words, bit per channel, W1C */
#define NV_PGRAPH_STATUS            0x400700

/* ---- PTIMER ------------------------------------------------------------------- */
#define NV_PTIMER_TIME_LOW          0x009400
#define NV_PTIMER_TIME_HIGH         0x009410

/* ---- VRAM size (PFB) ----------------------------------------------------------- */
#define NV_PFB_PARTS                0x022438
#define NV_PFB_PART_MIB             0x10f20c

/* ---- MMU ------------------------------------------------------------------------ */
#define NV_MMU_CTRL                 0x100c80
#define   NV_MMU_CTRL_LARGE_64K     (1u << 0)   /* 0 = 128 KiB large pages */
#define   NV_MMU_CTRL_FLUSH_DONE    (1u << 15)
#define   NV_MMU_CTRL_SPACE         0x00ff0000u /* non-zero: room to queue a flush */
#define   NV_MMU_CTRL_BYPASS        (1u << 31)
#define NV_MMU_FLUSH_PD             0x100cb8    /* (pd >> 8) | target */
#define NV_MMU_FLUSH_TRIGGER        0x100cbc
#define   NV_MMU_FLUSH_ALL_PAGES    (1u << 0)
#define   NV_MMU_FLUSH_ALL_PDES     (1u << 1)
#define   NV_MMU_FLUSH_HUB_ONLY     (1u << 2)
#define   NV_MMU_FLUSH_GO           (1u << 31)

/* BAR0 register space size. */
#define NV_BAR0_SIZE                0x1000000

#endif
