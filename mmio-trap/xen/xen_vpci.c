/*
 * The vGPU's PCI config space (see xen_vpci.h).  The space is an array of
 * bytes plus a mask of the bits the guest may change; every write goes
 * through the mask, so read-only fields stay read-only and BAR sizing
 * (write all ones, read back the size mask) falls out of the BAR masks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_vpci.h"

#define PCI_CFG_VENDOR          0x00
#define PCI_CFG_DEVICE          0x02
#define PCI_CFG_REVISION        0x08
#define PCI_CFG_CLASS           0x09
#define PCI_CFG_CACHE_LINE      0x0c
#define PCI_CFG_LATENCY         0x0d
#define PCI_CFG_HEADER_TYPE     0x0e
#define PCI_CFG_SUBSYS_VENDOR   0x2c
#define PCI_CFG_SUBSYS_ID       0x2e
#define PCI_CFG_ROM             0x30
#define PCI_CFG_INT_LINE        0x3c
#define PCI_CFG_INT_PIN         0x3d
#define PCI_CFG_HEADER_END      0x40

#define BAR_MEM_64              0x4     /* type bits 2:1 = 10b */
#define BAR_MEM_PREFETCH        0x8

static void put8(uint8_t *a, unsigned off, uint8_t v) { a[off] = v; }

static void put16(uint8_t *a, unsigned off, uint16_t v)
{
	a[off] = (uint8_t)v;
	a[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *a, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		a[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *a, unsigned off)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)a[off + i] << (8 * i);
	return v;
}

static int hexval(const char *s, unsigned n, unsigned *out)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

int xen_vpci_parse_sbdf(const char *text, struct xen_vpci_sbdf *out)
{
	unsigned seg = 0, bus, dev, fn;
	size_t len;

	if (!text || !out)
		return -1;
	len = strlen(text);
	if (len == 12) {        /* DDDD:BB:DD.F */
		if (text[4] != ':' || hexval(text, 4, &seg))
			return -1;
		text += 5;
		len -= 5;
	}
	if (len != 7 || text[2] != ':' || text[5] != '.' || hexval(text, 2, &bus) ||
	    hexval(text + 3, 2, &dev) || hexval(text + 6, 1, &fn))
		return -1;
	if (dev > 31 || fn > 7)
		return -1;
	out->seg = (uint16_t)seg;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->fn = (uint8_t)fn;
	return 0;
}

uint32_t xen_vpci_sbdf_value(const struct xen_vpci_sbdf *s)
{
	return (uint32_t)s->seg << 16 | (uint32_t)s->bus << 8 | (uint32_t)s->dev << 3 | s->fn;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int xen_vpci_init(struct xen_vpci *p, const struct xen_vpci_config *cfg)
{
	if (cfg->pv_bar_size &&
	    (!pow2(cfg->pv_bar_size) || cfg->pv_bar_size < 4096 || cfg->pv_bar_size > (2ull << 30)))
		return -1;
	if (cfg->sbdf.dev > 31 || cfg->sbdf.fn > 7)
		return -1;
	memset(p, 0, sizeof(*p));
	p->sbdf = cfg->sbdf;
	p->bar_size[0] = XEN_VPCI_BAR0_SIZE;
	p->bar_size[1] = XEN_VPCI_BAR1_SIZE;
	p->bar_64[1] = true;
	p->bar_size[3] = XEN_VPCI_BAR3_SIZE;
	p->bar_64[3] = true;
	p->bar_size[XEN_VPCI_PV_BAR] = cfg->pv_bar_size;
	xen_vpci_reset(p);
	return 0;
}

void xen_vpci_reset(struct xen_vpci *p)
{
	memset(p->cfg, 0, sizeof(p->cfg));
	memset(p->wmask, 0, sizeof(p->wmask));
	p->cf8 = 0;

	put16(p->cfg, PCI_CFG_VENDOR, XEN_VPCI_VENDOR);
	put16(p->cfg, PCI_CFG_DEVICE, XEN_VPCI_DEVICE);
	put8(p->cfg, PCI_CFG_REVISION, XEN_VPCI_REVISION);
	put8(p->cfg, PCI_CFG_CLASS, (uint8_t)XEN_VPCI_CLASS);
	put16(p->cfg, PCI_CFG_CLASS + 1, (uint16_t)(XEN_VPCI_CLASS >> 8));
	put8(p->cfg, PCI_CFG_HEADER_TYPE, 0x00);        /* type 0, single function */
	put16(p->cfg, PCI_CFG_SUBSYS_VENDOR, XEN_VPCI_VENDOR);
	put16(p->cfg, PCI_CFG_SUBSYS_ID, XEN_VPCI_DEVICE);
	put8(p->cfg, PCI_CFG_INT_PIN, 1);               /* INTA# */
	/* Status: no capabilities list (bit 4 clear), cap pointer 0. */

	/* Writable: memory decode, bus master, INTx disable; no I/O BARs. */
	put16(p->wmask, PCI_CFG_COMMAND, PCI_CFG_CMD_MEMORY | PCI_CFG_CMD_MASTER |
	      PCI_CFG_CMD_INTX_OFF);
	put8(p->wmask, PCI_CFG_CACHE_LINE, 0xff);
	put8(p->wmask, PCI_CFG_LATENCY, 0xff);
	put8(p->wmask, PCI_CFG_INT_LINE, 0xff);

	for (unsigned n = 0; n < XEN_VPCI_NBARS; n++) {
		uint64_t size = p->bar_size[n];
		uint64_t mask;

		if (!size)
			continue;
		mask = ~(size - 1);
		put32(p->cfg, PCI_CFG_BAR(n), p->bar_64[n] ? BAR_MEM_64 | BAR_MEM_PREFETCH : 0);
		put32(p->wmask, PCI_CFG_BAR(n), (uint32_t)mask & ~0xfu);
		if (p->bar_64[n])
			put32(p->wmask, PCI_CFG_BAR(n + 1), (uint32_t)(mask >> 32));
	}
}

static bool access_ok(unsigned reg, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	if (reg & (size - 1))
		return false;
	return reg < XEN_VPCI_EXT_CFG_SIZE && size <= XEN_VPCI_EXT_CFG_SIZE - reg;
}

int xen_vpci_cfg_read(struct xen_vpci *p, unsigned reg, unsigned size, uint32_t *val)
{
	uint32_t v = 0;

	if (!access_ok(reg, size)) {
		*val = 0xffffffffu;
		return -1;
	}
	if (reg >= PCI_CFG_HEADER_END) {
		*val = 0;       /* no capabilities, no extended capabilities */
		return 0;
	}
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p->cfg[reg + i] << (8 * i);
	*val = v;
	return 0;
}

int xen_vpci_cfg_write(struct xen_vpci *p, unsigned reg, unsigned size, uint32_t val)
{
	if (!access_ok(reg, size))
		return -1;
	if (reg >= PCI_CFG_HEADER_END)
		return 0;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = p->wmask[reg + i];
		uint8_t b = (uint8_t)(val >> (8 * i));

		p->cfg[reg + i] = (uint8_t)((p->cfg[reg + i] & ~m) | (b & m));
	}
	return 0;
}

bool xen_vpci_is_ours(const struct xen_vpci *p, uint32_t sbdf_value)
{
	return sbdf_value == xen_vpci_sbdf_value(&p->sbdf);
}

/* The function and register CONFIG_ADDRESS selects, if it is enabled and ours. */
static bool cf8_target(const struct xen_vpci *p, unsigned *reg)
{
	uint32_t a = p->cf8;
	struct xen_vpci_sbdf s = {
		.seg = 0,
		.bus = (uint8_t)(a >> 16),
		.dev = (uint8_t)((a >> 11) & 0x1f),
		.fn = (uint8_t)((a >> 8) & 0x7),
	};

	if (!(a & XEN_VPCI_CF8_ENABLE) || p->sbdf.seg != 0)
		return false;
	if (xen_vpci_sbdf_value(&s) != xen_vpci_sbdf_value(&p->sbdf))
		return false;
	*reg = a & 0xfc;
	return true;
}

int xen_vpci_pio(struct xen_vpci *p, uint16_t port, unsigned size, bool write, uint32_t *val)
{
	unsigned reg;

	if (port < XEN_VPCI_CF8 || port > XEN_VPCI_CFC + 3 ||
	    (size != 1 && size != 2 && size != 4) || port + size > XEN_VPCI_CFC + 4) {
		if (!write)
			*val = 0xffffffffu;
		return -1;
	}
	if (port < XEN_VPCI_CFC) {
		if (port == XEN_VPCI_CF8 && size == 4) {
			if (write)
				p->cf8 = *val;
			else
				*val = p->cf8;
		} else if (!write) {
			*val = 0xffffffffu;     /* not CONFIG_ADDRESS: nothing here */
		}
		return 0;
	}
	if (!cf8_target(p, &reg)) {
		if (!write)
			*val = 0xffffffffu;     /* no such function */
		return 0;
	}
	reg += port - XEN_VPCI_CFC;
	if (write)
		return xen_vpci_cfg_write(p, reg, size, *val);
	return xen_vpci_cfg_read(p, reg, size, val);
}

void xen_vpci_bars(const struct xen_vpci *p, struct xen_vpci_bar out[XEN_VPCI_NBARS])
{
	bool mem = get32(p->cfg, PCI_CFG_COMMAND) & PCI_CFG_CMD_MEMORY;

	memset(out, 0, sizeof(out[0]) * XEN_VPCI_NBARS);
	for (unsigned n = 0; n < XEN_VPCI_NBARS; n++) {
		uint64_t base;

		if (!p->bar_size[n])
			continue;
		base = get32(p->cfg, PCI_CFG_BAR(n)) & ~0xfull;
		if (p->bar_64[n])
			base |= (uint64_t)get32(p->cfg, PCI_CFG_BAR(n + 1)) << 32;
		out[n].size = p->bar_size[n];
		out[n].base = base;
		/* base + size cannot wrap: base is a multiple of the power-of-two size. */
		out[n].decoded = mem && base != 0;
	}
}

int xen_vpci_route(const struct xen_vpci *p, uint64_t gpa, unsigned size,
		   uint8_t *bar, uint64_t *offset)
{
	struct xen_vpci_bar b[XEN_VPCI_NBARS];

	if (!size)
		return -1;
	xen_vpci_bars(p, b);
	for (unsigned n = 0; n < XEN_VPCI_NBARS; n++) {
		if (!b[n].decoded || gpa < b[n].base || gpa - b[n].base >= b[n].size)
			continue;
		if (size > b[n].size - (gpa - b[n].base))
			return -1;
		/* The PV BAR sits in slot 5 (BAR3 takes slots 3-4); the vGPU knows it
		 * as bar GPUVM_PV_BAR. */
		*bar = n == XEN_VPCI_PV_BAR ? XEN_VPCI_PV_IO_BAR : (uint8_t)n;
		*offset = gpa - b[n].base;
		return 0;
	}
	return -1;
}
