/*
 * The vGPU as a PCI function: the config space a Xen guest sees for its
 * vGPU, and the routing of guest-physical MMIO to BAR offsets.  Pure logic:
 * no Xen calls, so it is unit-tested without Xen (tests/xen_unit/).
 *
 * The function is an NVIDIA GF100 (10de:06d8, class 0x030000) with
 *   BAR0  slot 0 (0x10)       32-bit, non-prefetchable, 16 MiB (registers)
 *   BAR1  slots 1-2 (0x14)    64-bit, prefetchable, 256 MiB (VRAM aperture)
 *   BAR3  slots 3-4 (0x1c)    64-bit, prefetchable, 16 MiB (kernel aperture)
 *   slot 5 (0x24)             the PV BAR when pv_bar_size != 0, else absent
 * no expansion ROM and an empty capabilities list.
 *
 * A BAR is *decoded* (its MMIO claimed from Xen, its accesses served) only
 * while the command register's memory-space bit is set and its address is
 * not 0; the owner compares xen_vpci_bars() before and after each config
 * write to re-claim ranges the guest moved.
 */
#ifndef GPUVM_XEN_VPCI_H
#define GPUVM_XEN_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#define XEN_VPCI_VENDOR         0x10de
#define XEN_VPCI_DEVICE         0x06d8
#define XEN_VPCI_CLASS          0x030000u       /* VGA-compatible display */
#define XEN_VPCI_REVISION       0xa3
#define XEN_VPCI_CFG_SIZE       256             /* conventional config space */
#define XEN_VPCI_EXT_CFG_SIZE   4096            /* PCIe: 0x100-0xfff read 0 */

#define XEN_VPCI_BAR0_SIZE      (16ull << 20)
#define XEN_VPCI_BAR1_SIZE      (256ull << 20)
#define XEN_VPCI_BAR3_SIZE      (16ull << 20)
#define XEN_VPCI_PV_BAR         5               /* slot of the PV BAR */
#define XEN_VPCI_PV_IO_BAR      4               /* ... which is vgpu_io bar 4 (GPUVM_PV_BAR) */
#define XEN_VPCI_NBARS          6               /* BAR numbers 0..5 */

/* Config-space offsets and bits we use by name. */
#define PCI_CFG_COMMAND         0x04
#define PCI_CFG_CMD_IO          0x0001
#define PCI_CFG_CMD_MEMORY      0x0002
#define PCI_CFG_CMD_MASTER      0x0004
#define PCI_CFG_CMD_INTX_OFF    0x0400
#define PCI_CFG_STATUS          0x06
#define PCI_CFG_BAR(n)          (0x10 + 4 * (n))
#define PCI_CFG_CAP_PTR         0x34

/* Port I/O mechanism #1. */
#define XEN_VPCI_CF8            0xcf8
#define XEN_VPCI_CFC            0xcfc
#define XEN_VPCI_CF8_ENABLE     0x80000000u

/* A PCI address: segment, bus, device, function. */
struct xen_vpci_sbdf {
	uint16_t seg;
	uint8_t bus, dev, fn;
};

/* "00:03.0" or "0000:00:03.0" -> sbdf.  0, or -1 for anything else. */
int xen_vpci_parse_sbdf(const char *text, struct xen_vpci_sbdf *out);
/* Xen's 32-bit SBDF value (seg << 16 | bus << 8 | dev << 3 | fn). */
uint32_t xen_vpci_sbdf_value(const struct xen_vpci_sbdf *s);

struct xen_vpci_config {
	struct xen_vpci_sbdf sbdf;
	uint64_t pv_bar_size;   /* 0 = no PV BAR; else a power of two >= 4 KiB, <= 2 GiB */
};

/* One BAR as the owner sees it. */
struct xen_vpci_bar {
	uint64_t size;          /* 0: the BAR does not exist */
	uint64_t base;          /* address the guest programmed */
	bool decoded;           /* memory decode on and base != 0: claim [base, base+size) */
};

struct xen_vpci {
	struct xen_vpci_sbdf sbdf;
	uint8_t cfg[XEN_VPCI_CFG_SIZE];
	uint8_t wmask[XEN_VPCI_CFG_SIZE];       /* bits the guest may change */
	uint64_t bar_size[XEN_VPCI_NBARS];      /* 0 = no BAR starts in this slot */
	bool bar_64[XEN_VPCI_NBARS];
	uint32_t cf8;                           /* CONFIG_ADDRESS latch (PVH) */
};

/* Power-on state.  0, or -1 for a bad pv_bar_size. */
int xen_vpci_init(struct xen_vpci *p, const struct xen_vpci_config *cfg);
/* Back to power-on state (keeps the SBDF and BAR sizes). */
void xen_vpci_reset(struct xen_vpci *p);

/*
 * Config access at reg (0..4095) of size 1, 2 or 4.  An access that is not
 * naturally aligned, has another size or lies past 4 KiB reads all ones and
 * writes nothing (returns -1); 0x40-0xfff read 0 and ignore writes.
 */
int xen_vpci_cfg_read(struct xen_vpci *p, unsigned reg, unsigned size, uint32_t *val);
int xen_vpci_cfg_write(struct xen_vpci *p, unsigned reg, unsigned size, uint32_t val);

/*
 * A config access addressed to sbdf (IOREQ_TYPE_PCI_CONFIG): another
 * function reads all ones and ignores writes.
 */
bool xen_vpci_is_ours(const struct xen_vpci *p, uint32_t sbdf_value);

/*
 * Port access to 0xcf8-0xcff (PVH guests, no device model).  A 4-byte
 * access at 0xcf8 reads/writes the CONFIG_ADDRESS latch; 0xcfc-0xcff reach
 * the config register the latch selects when its enable bit is set and it
 * names our function, and read all ones otherwise; any other access in the
 * range reads all ones and writes nothing.  Returns 0, or -1 for a port
 * outside 0xcf8-0xcff or a bad size (the access is still completed so).
 */
int xen_vpci_pio(struct xen_vpci *p, uint16_t port, unsigned size, bool write, uint32_t *val);

/* Current state of every BAR slot (index = BAR number; 2 and 4 are upper halves). */
void xen_vpci_bars(const struct xen_vpci *p, struct xen_vpci_bar out[XEN_VPCI_NBARS]);

/*
 * Which decoded BAR holds [gpa, gpa + size): 0 with *bar and *offset, or -1
 * if none does wholly (an access straddling a BAR's end is refused).
 */
int xen_vpci_route(const struct xen_vpci *p, uint64_t gpa, unsigned size,
		   uint8_t *bar, uint64_t *offset);

#endif
