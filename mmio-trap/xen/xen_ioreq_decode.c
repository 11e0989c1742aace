/*
 * Serving one ioreq against a vGPU's PCI function (see xen_ioreq_decode.h).
 */
#include <string.h>

#include "xen_ioreq_decode.h"

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void deny(struct xen_ioreq_view *r, struct xen_ioreq_outcome *out, const char *why)
{
	if (r->dir == XEN_IOREQ_READ && !r->data_is_ptr)
		r->data = r->size >= 1 && r->size <= 8 ? size_mask(r->size) : ~0ull;
	out->result = XEN_IOREQ_DENIED;
	out->why = why;
}

static bool bars_equal(const struct xen_vpci_bar *a, const struct xen_vpci_bar *b)
{
	for (unsigned n = 0; n < XEN_VPCI_NBARS; n++)
		if (a[n].decoded != b[n].decoded || (a[n].decoded && a[n].base != b[n].base))
			return false;
	return true;
}

static void serve_mmio(struct xen_vpci *pci, struct xen_ioreq_view *r,
		       xen_ioreq_mmio_fn mmio, void *arg, struct xen_ioreq_outcome *out)
{
	unsigned size = r->size;
	uint64_t step, addr = r->addr;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return deny(r, out, "MMIO access size not 1, 2, 4 or 8");
	if (r->data_is_ptr)
		return deny(r, out, "MMIO string copy to or from guest memory");
	if (r->count < 1 || r->count > XEN_IOREQ_MAX_REP)
		return deny(r, out, "MMIO repeat count out of range");
	step = r->df ? -(uint64_t)size : size;
	/* Check every access before doing any: all or nothing. */
	for (uint32_t i = 0; i < r->count; i++) {
		uint8_t bar;
		uint64_t off;

		if (xen_vpci_route(pci, addr + step * i, size, &bar, &off))
			return deny(r, out, "MMIO outside the vGPU's decoded BARs");
	}
	for (uint32_t i = 0; i < r->count; i++) {
		struct vgpu_io io = { .dir = r->dir == XEN_IOREQ_READ ? VGPU_IO_READ : VGPU_IO_WRITE,
				      .size = (uint8_t)size };

		xen_vpci_route(pci, addr + step * i, size, &io.bar, &io.offset);
		if (io.dir == VGPU_IO_WRITE)
			io.data = r->data & size_mask(size);
		mmio(arg, &io);
		out->mmio_accesses++;
		if (io.dir == VGPU_IO_READ)
			r->data = io.data & size_mask(size);    /* rep lods: the last one */
	}
}

static void serve_config(struct xen_vpci *pci, struct xen_ioreq_view *r,
			 struct xen_ioreq_outcome *out)
{
	struct xen_vpci_bar before[XEN_VPCI_NBARS], after[XEN_VPCI_NBARS];
	uint32_t sbdf = (uint32_t)(r->addr >> 32);
	unsigned reg = (unsigned)(r->addr & 0xffffffffu);
	uint32_t v = (uint32_t)r->data;

	if (r->data_is_ptr || r->count != 1)
		return deny(r, out, "PCI config access with a pointer or repeat");
	if (!xen_vpci_is_ours(pci, sbdf))
		return deny(r, out, "PCI config access to another function");
	if (r->size > 4 || reg > 0xffff)
		return deny(r, out, "PCI config access of a bad size or register");
	if (r->dir == XEN_IOREQ_READ) {
		if (xen_vpci_cfg_read(pci, reg, r->size, &v))
			return deny(r, out, "PCI config read misaligned or out of range");
		r->data = v;
		return;
	}
	xen_vpci_bars(pci, before);
	if (xen_vpci_cfg_write(pci, reg, r->size, v))
		return deny(r, out, "PCI config write misaligned or out of range");
	xen_vpci_bars(pci, after);
	out->bars_changed = !bars_equal(before, after);
}

static void serve_pio(struct xen_vpci *pci, struct xen_ioreq_view *r,
		      struct xen_ioreq_outcome *out)
{
	struct xen_vpci_bar before[XEN_VPCI_NBARS], after[XEN_VPCI_NBARS];
	uint32_t v = (uint32_t)r->data;

	if (r->data_is_ptr || r->count != 1)
		return deny(r, out, "port I/O string or repeat");
	if (r->addr > 0xffff || r->size > 4)
		return deny(r, out, "port I/O of a bad port or size");
	xen_vpci_bars(pci, before);
	if (xen_vpci_pio(pci, (uint16_t)r->addr, r->size, r->dir == XEN_IOREQ_WRITE, &v))
		return deny(r, out, "port I/O outside 0xcf8-0xcff or of a bad size");
	if (r->dir == XEN_IOREQ_READ) {
		r->data = v & size_mask(r->size);
		return;
	}
	xen_vpci_bars(pci, after);
	out->bars_changed = !bars_equal(before, after);
}

void xen_ioreq_serve(struct xen_vpci *pci, struct xen_ioreq_view *r,
		     xen_ioreq_mmio_fn mmio, void *arg, struct xen_ioreq_outcome *out)
{
	memset(out, 0, sizeof(*out));
	switch (r->type) {
	case XEN_IOREQ_TYPE_COPY:
		serve_mmio(pci, r, mmio, arg, out);
		break;
	case XEN_IOREQ_TYPE_PIO:
		serve_pio(pci, r, out);
		break;
	case XEN_IOREQ_TYPE_PCI_CONFIG:
		serve_config(pci, r, out);
		break;
	case XEN_IOREQ_TYPE_INVALIDATE:
	case XEN_IOREQ_TYPE_TIMEOFFSET:
		out->result = XEN_IOREQ_IGNORED;
		break;
	default:
		deny(r, out, "unknown ioreq type");
		break;
	}
}

unsigned xen_bufioreq_decode(const uint32_t slot[2], const uint32_t next[2],
			     struct xen_ioreq_view *r)
{
	uint32_t w = slot[0];
	unsigned size = 1u << ((w >> 10) & 3);
	struct xen_ioreq_view v = {
		.type = (uint8_t)(w & 0xff),
		.dir = (uint8_t)((w >> 9) & 1),
		.size = size,
		.addr = w >> 12,
		.data = slot[1],
		.count = 1,
	};

	if (size == 8) {
		if (!next)
			return 0;
		v.data |= (uint64_t)next[1] << 32;     /* the second slot's data */
	}
	*r = v;
	return size == 8 ? 2 : 1;
}
