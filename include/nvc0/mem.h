/*
 * NVC0 in-memory formats: page directories and tables, instance blocks
 * (RAMFC and the VM words), USERD, GPFIFO entries and pushbuffer headers.
 */
#ifndef NVC0_MEM_H
#define NVC0_MEM_H

#include <stdint.h>

/* ---- Virtual memory (128 KiB large pages, NV_MMU_CTRL bit 0 clear) -------- */
#define NV_VA_BITS              40
#define NV_VA_LIMIT             (1ull << NV_VA_BITS)
#define NV_SPAGE_SHIFT          12
#define NV_SPAGE_SIZE           (1u << NV_SPAGE_SHIFT)
#define NV_LPAGE_SHIFT          17
#define NV_LPAGE_SIZE           (1u << NV_LPAGE_SHIFT)
#define NV_PDE_SHIFT            27                  /* 128 MiB per PDE */
#define NV_PDE_COUNT            8192
#define NV_PD_SIZE              (NV_PDE_COUNT * 8)  /* 64 KiB */
#define NV_SPT_ENTRIES          32768               /* 4 KiB pages per PDE */
#define NV_LPT_ENTRIES          1024                /* 128 KiB pages per PDE */
#define NV_SPT_SIZE             (NV_SPT_ENTRIES * 8)
#define NV_LPT_SIZE             (NV_LPT_ENTRIES * 8)

/*
 * PDE: 64 bits.  The low word points at the large-page table, the high word
 * at the small-page table.  Each word: bits 0-1 aperture, 2-3 table size,
 * 4-31 table address >> 12.  gpusim ignores the size field and always walks
 * full tables (NV_SPT_ENTRIES / NV_LPT_ENTRIES entries).
 */
#define NV_PDE_APER_MASK        0x3u
#define NV_APER_NONE            0u
#define NV_APER_VRAM            1u
#define NV_APER_SYS             2u
#define NV_APER_SYS_NC          3u
#define NV_PDE_ADDR_SHIFT       8                   /* word holds addr >> 8 in bits 4-31 */
#define NV_PDE_ADDR_MASK        0xfffffff0u
static inline uint32_t nv_pde_word(uint64_t table, uint32_t aper)
{
	return ((uint32_t)(table >> NV_PDE_ADDR_SHIFT) & NV_PDE_ADDR_MASK) | aper;
}
static inline uint64_t nv_pde_word_addr(uint32_t w)
{
	return (uint64_t)(w & NV_PDE_ADDR_MASK) << NV_PDE_ADDR_SHIFT;
}

/* PTE: 64 bits. */
#define NV_PTE_VALID            (1ull << 0)
#define NV_PTE_PRIV             (1ull << 1)
#define NV_PTE_READ_ONLY        (1ull << 2)
#define NV_PTE_ADDR_MASK        0xfffffff0ull       /* low word holds phys >> 8 */
#define NV_PTE_ADDR_SHIFT       8
#define NV_PTE_VOL              (1ull << 32)
#define NV_PTE_APER_SHIFT       33
#define NV_PTE_APER_MASK        (3ull << NV_PTE_APER_SHIFT) /* 0 VRAM, 2 sys, 3 sys nc */
#define NV_PTE_KIND_SHIFT       36
#define NV_PTE_KIND_MASK        (0xffull << NV_PTE_KIND_SHIFT)
#define NV_PTE_COMP_SHIFT       44
static inline uint64_t nv_pte_vram(uint64_t phys, int read_only)
{
	return ((phys >> NV_PTE_ADDR_SHIFT) & NV_PTE_ADDR_MASK) | NV_PTE_VALID |
	       (read_only ? NV_PTE_READ_ONLY : 0);
}
static inline uint64_t nv_pte_addr(uint64_t pte)
{
	return (pte & NV_PTE_ADDR_MASK) << NV_PTE_ADDR_SHIFT;
}
static inline unsigned nv_pte_aper(uint64_t pte)
{
	return (unsigned)((pte & NV_PTE_APER_MASK) >> NV_PTE_APER_SHIFT);
}

/* ---- Instance block (4 KiB): RAMFC and the VM words ------------------------- */
#define NV_INST_SIZE            0x1000
#define NV_RAMFC_USERD_LO       0x08
#define NV_RAMFC_USERD_HI       0x0c
#define NV_RAMFC_GP_BASE_LO     0x48
#define NV_RAMFC_GP_BASE_HI     0x4c    /* bits 0-7 VA 32-39, bits 16-20 log2(entries) */
#define   NV_RAMFC_GP_ORDER(v)  (((v) >> 16) & 0x1f)
#define NV_INST_PD_LO           0x200   /* bits 0-1 target, bit 2 VOL, 4 KiB aligned addr */
#define NV_INST_PD_HI           0x204
#define NV_INST_LIMIT_LO        0x208   /* VM limit - 1 */
#define NV_INST_LIMIT_HI        0x20c
#define NV_INST_GRCTX_LO        0x210
#define NV_INST_GRCTX_HI        0x214
#define NV_INST_PD_TARGET_MASK  0x3u

/* ---- USERD (4 KiB per channel in VRAM, reached through BAR1) --------------- */
#define NV_USERD_SIZE           0x1000
#define NV_USERD_DMA_PUT        0x40
#define NV_USERD_DMA_GET        0x44
#define NV_USERD_REF            0x48
#define NV_USERD_DMA_MGET       0x58
#define NV_USERD_DMA_MGET_HI    0x5c
#define NV_USERD_GP_GET         0x88
#define NV_USERD_GP_PUT         0x8c

/* ---- Runlist entry: 8 bytes {chid, 4} --------------------------------------- */
#define NV_RUNLIST_ENTRY_SIZE   8
#define NV_RUNLIST_ENTRY_WORD1  0x00000004u

/* ---- GPFIFO entry: 8 bytes -------------------------------------------------- */
#define NV_GPFIFO_ENTRY_SIZE    8
#define NV_GP_ADDR_LO_MASK      0xfffffffcu
#define NV_GP_ADDR_HI_MASK      0xffu
#define NV_GP_NOT_MAIN          (1u << 9)
#define NV_GP_LEN_SHIFT         10
#define NV_GP_LEN_MASK          0x1fffffu           /* words */
#define NV_GP_NO_PREFETCH       (1u << 31)
static inline void nv_gp_entry(uint32_t e[2], uint64_t va, uint32_t words)
{
	e[0] = (uint32_t)va & NV_GP_ADDR_LO_MASK;
	e[1] = ((uint32_t)(va >> 32) & NV_GP_ADDR_HI_MASK) |
	       ((words & NV_GP_LEN_MASK) << NV_GP_LEN_SHIFT);
}

/* ---- Pushbuffer method headers ---------------------------------------------- */
#define NV_PB_OP_INC            1u      /* incrementing */
#define NV_PB_OP_NONINC         3u      /* non-incrementing */
#define NV_PB_OP_IMMD           4u      /* immediate: 13-bit data in bits 16-28 */
#define NV_PB_OP_INC_ONCE       5u      /* increment once */
#define NV_PB_OP(h)             ((h) >> 29)
#define NV_PB_COUNT(h)          (((h) >> 16) & 0x1fff)
#define NV_PB_SUBC(h)           (((h) >> 13) & 7)
#define NV_PB_METHOD(h)         (((h) & 0x1fff) << 2)
static inline uint32_t nv_pb_hdr(uint32_t op, uint32_t subc, uint32_t mthd, uint32_t count)
{
	return op << 29 | (count & 0x1fff) << 16 | (subc & 7) << 13 | ((mthd >> 2) & 0x1fff);
}

#endif
