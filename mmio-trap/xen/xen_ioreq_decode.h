/*
 * One Xen ioreq, decoded and served against a vGPU's PCI function: MMIO to
 * its BARs becomes a struct vgpu_io for the vGPU core, config cycles and
 * ports 0xcf8-0xcff go to xen_vpci.  Pure logic (no Xen headers: the
 * server copies Xen's struct ioreq into struct xen_ioreq_view and back), so
 * the validation rules are unit-tested without Xen.
 *
 * Rules (anything else is denied: a read returns all ones, a write is
 * dropped, the request is completed and counted, never fatal):
 *   MMIO (type 1)        size 1/2/4/8, data_is_ptr 0, count 1..XEN_IOREQ_MAX_REP,
 *                        every access wholly inside one decoded BAR
 *   port I/O (type 0)    0xcf8-0xcff only (xen_vpci_pio), data_is_ptr 0, count 1
 *   PCI config (type 2)  addr = SBDF << 32 | register; another SBDF reads ones
 *   invalidate (8), time offset (7): nothing to do (no map cache, no RTC)
 */
#ifndef GPUVM_XEN_IOREQ_DECODE_H
#define GPUVM_XEN_IOREQ_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "vgpu_io.h"
#include "xen_vpci.h"

/* Xen's ioreq types and directions (public/hvm/ioreq.h). */
#define XEN_IOREQ_TYPE_PIO          0
#define XEN_IOREQ_TYPE_COPY         1
#define XEN_IOREQ_TYPE_PCI_CONFIG   2
#define XEN_IOREQ_TYPE_TIMEOFFSET   7
#define XEN_IOREQ_TYPE_INVALIDATE   8
#define XEN_IOREQ_READ              1
#define XEN_IOREQ_WRITE             0
#define XEN_IOREQ_MAX_REP           4096    /* rep stos/lods on MMIO, per request */

struct xen_ioreq_view {
	uint64_t addr;
	uint64_t data;
	uint32_t count;
	uint32_t size;
	uint8_t type;
	uint8_t dir;
	uint8_t data_is_ptr;
	uint8_t df;
};

enum xen_ioreq_result {
	XEN_IOREQ_OK = 0,
	XEN_IOREQ_DENIED,       /* completed as a master abort */
	XEN_IOREQ_IGNORED,      /* a type with nothing to do */
};

struct xen_ioreq_outcome {
	enum xen_ioreq_result result;
	const char *why;        /* static text when DENIED */
	bool bars_changed;      /* a config write changed which ranges are decoded */
	unsigned mmio_accesses; /* vgpu_io calls made */
};

/* Called for each MMIO access (the backend: vgpu_mmio on its vGPU). */
typedef void (*xen_ioreq_mmio_fn)(void *arg, struct vgpu_io *io);

/*
 * Serve r in place: for reads r->data is set (to all ones on denial),
 * truncated to r->size bytes.  Never fails; the outcome says what happened.
 */
void xen_ioreq_serve(struct xen_vpci *pci, struct xen_ioreq_view *r,
		     xen_ioreq_mmio_fn mmio, void *arg, struct xen_ioreq_outcome *out);

/*
 * One buffered ioreq (write-only, no response) from the buffered page, as
 * the two 32-bit words of Xen's struct buf_ioreq (type; pad:1, dir:1,
 * size:2; addr:20 in the first, data in the second); next is the following
 * slot, used by 8-byte writes for the upper half.  Returns the slots used
 * (1 or 2), or 0 with r untouched if next is needed but absent.
 */
unsigned xen_bufioreq_decode(const uint32_t slot[2], const uint32_t next[2],
			     struct xen_ioreq_view *r);

#endif
