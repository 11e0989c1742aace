/*
 * The vGPU's PCI function (mmio-trap/xen/xen_vpci.c): identity, BAR sizing,
 * command-register decode, read-only fields, every access width, CONFIG_ADDRESS
 * latching on 0xcf8 and foreign functions, garbage.  No Xen needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xen/xen_vpci.h"

static struct xen_vpci pci;

static int setup(void **state)
{
	struct xen_vpci_config cfg = { .sbdf = { 0, 0, 3, 0 } };

	(void)state;
	return xen_vpci_init(&pci, &cfg);
}

static uint32_t rd(unsigned reg, unsigned size)
{
	uint32_t v = 0x5a5a5a5a;

	assert_int_equal(xen_vpci_cfg_read(&pci, reg, size, &v), 0);
	return v;
}

static void wr(unsigned reg, unsigned size, uint32_t v)
{
	assert_int_equal(xen_vpci_cfg_write(&pci, reg, size, v), 0);
}

static void test_identity(void **state)
{
	(void)state;
	assert_int_equal(rd(0x00, 2), 0x10de);
	assert_int_equal(rd(0x02, 2), 0x06d8);
	assert_int_equal(rd(0x00, 4), 0x06d810de);
	assert_int_equal(rd(0x0b, 1), 0x03);            /* base class: display */
	assert_int_equal(rd(0x0a, 1), 0x00);            /* VGA */
	assert_int_equal(rd(0x09, 1), 0x00);
	assert_int_equal(rd(0x08, 4) >> 8, 0x030000);
	assert_int_equal(rd(0x0e, 1), 0x00);            /* header type 0 */
	assert_int_equal(rd(0x06, 2) & 0x10, 0);        /* no capabilities list */
	assert_int_equal(rd(0x34, 1), 0);
	assert_int_equal(rd(0x3d, 1), 1);               /* INTA# */
	/* Fresh BARs: type bits only. */
	assert_int_equal(rd(0x10, 4), 0x0);
	assert_int_equal(rd(0x14, 4), 0xc);             /* 64-bit prefetchable */
	assert_int_equal(rd(0x18, 4), 0x0);
	assert_int_equal(rd(0x1c, 4), 0xc);
	assert_int_equal(rd(0x20, 4), 0x0);
	assert_int_equal(rd(0x24, 4), 0x0);             /* no PV BAR by default */
	assert_int_equal(rd(0x30, 4), 0x0);             /* no ROM */
	/* Beyond the header and in extended space: zeros. */
	assert_int_equal(rd(0x40, 4), 0);
	assert_int_equal(rd(0xfc, 4), 0);
	assert_int_equal(rd(0x100, 4), 0);
	assert_int_equal(rd(0xffc, 4), 0);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	wr(0x10, 4, 0xffffffff);
	assert_int_equal(rd(0x10, 4), 0xff000000);      /* 16 MiB, 32-bit, non-prefetchable */
	wr(0x14, 4, 0xffffffff);
	wr(0x18, 4, 0xffffffff);
	assert_int_equal(rd(0x14, 4), 0xf000000c);      /* 256 MiB */
	assert_int_equal(rd(0x18, 4), 0xffffffff);
	wr(0x1c, 4, 0xffffffff);
	wr(0x20, 4, 0xffffffff);
	assert_int_equal(rd(0x1c, 4), 0xff00000c);      /* 16 MiB */
	assert_int_equal(rd(0x20, 4), 0xffffffff);
	wr(0x24, 4, 0xffffffff);
	assert_int_equal(rd(0x24, 4), 0);               /* absent BAR stays 0 */
	wr(0x30, 4, 0xffffffff);
	assert_int_equal(rd(0x30, 4), 0);               /* no ROM */
	/* Program real addresses; low bits are dropped. */
	wr(0x10, 4, 0xf1000123);
	assert_int_equal(rd(0x10, 4), 0xf1000000);
	wr(0x14, 4, 0xe0000000);
	wr(0x18, 4, 0x00000001);
	assert_int_equal(rd(0x14, 4), 0xe000000c);
	assert_int_equal(rd(0x18, 4), 1);
}

static void test_pv_bar(void **state)
{
	struct xen_vpci p;
	struct xen_vpci_config cfg = { .sbdf = { 0, 0, 3, 0 }, .pv_bar_size = 64 << 10 };
	uint32_t v;

	(void)state;
	uint8_t bar;
	uint64_t off;

	assert_int_equal(xen_vpci_init(&p, &cfg), 0);
	xen_vpci_cfg_write(&p, 0x24, 4, 0xffffffff);
	xen_vpci_cfg_read(&p, 0x24, 4, &v);
	assert_int_equal(v, 0xffff0000);
	/* Decoded, it routes to the vGPU's PV page (vgpu_io bar 4). */
	xen_vpci_cfg_write(&p, 0x24, 4, 0xf3000000);
	xen_vpci_cfg_write(&p, PCI_CFG_COMMAND, 2, PCI_CFG_CMD_MEMORY);
	assert_int_equal(xen_vpci_route(&p, 0xf3000010, 4, &bar, &off), 0);
	assert_int_equal(bar, XEN_VPCI_PV_IO_BAR);
	assert_int_equal(off, 0x10);
	cfg.pv_bar_size = 3000;
	assert_int_equal(xen_vpci_init(&p, &cfg), -1);
	cfg.pv_bar_size = 4ull << 30;
	assert_int_equal(xen_vpci_init(&p, &cfg), -1);
}

static void test_read_only(void **state)
{
	(void)state;
	wr(0x00, 4, 0x12345678);
	wr(0x08, 4, 0xffffffff);
	wr(0x0e, 1, 0xff);
	wr(0x2c, 4, 0);
	wr(0x34, 1, 0x40);
	wr(0x3d, 1, 7);
	wr(0x06, 2, 0xffff);                            /* status: nothing to clear */
	assert_int_equal(rd(0x00, 4), 0x06d810de);
	assert_int_equal(rd(0x08, 4) >> 8, 0x030000);
	assert_int_equal(rd(0x0e, 1), 0);
	assert_int_equal(rd(0x2c, 2), 0x10de);
	assert_int_equal(rd(0x34, 1), 0);
	assert_int_equal(rd(0x3d, 1), 1);
	assert_int_equal(rd(0x06, 2), 0);
	/* Writable scratch fields do change. */
	wr(0x3c, 1, 11);
	wr(0x0c, 1, 0x10);
	assert_int_equal(rd(0x3c, 1), 11);
	assert_int_equal(rd(0x0c, 1), 0x10);
	/* Command: I/O space cannot be enabled (no I/O BAR). */
	wr(0x04, 2, 0xffff);
	assert_int_equal(rd(0x04, 2), PCI_CFG_CMD_MEMORY | PCI_CFG_CMD_MASTER | PCI_CFG_CMD_INTX_OFF);
}

static void test_widths(void **state)
{
	(void)state;
	wr(0x10, 4, 0xf2000000);
	assert_int_equal(rd(0x10, 1), 0x00);
	assert_int_equal(rd(0x13, 1), 0xf2);
	assert_int_equal(rd(0x12, 2), 0xf200);
	wr(0x13, 1, 0xf3);                              /* byte write into a BAR */
	assert_int_equal(rd(0x10, 4), 0xf3000000);
	wr(0x12, 2, 0xf4ff);                            /* the mask keeps bits 23:0 zero */
	assert_int_equal(rd(0x10, 4), 0xf4000000);
	wr(0x04, 1, 0x02);
	assert_int_equal(rd(0x04, 4), 0x00000002);
	assert_int_equal(rd(0x3c, 4) >> 8 & 0xff, 1);
}

static void test_garbage(void **state)
{
	uint32_t v;

	(void)state;
	/* Misaligned, wrong sizes, out of range: all ones, no change. */
	assert_int_equal(xen_vpci_cfg_read(&pci, 0x01, 2, &v), -1);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(xen_vpci_cfg_read(&pci, 0x02, 4, &v), -1);
	assert_int_equal(xen_vpci_cfg_read(&pci, 0x00, 3, &v), -1);
	assert_int_equal(xen_vpci_cfg_read(&pci, 0x00, 8, &v), -1);
	assert_int_equal(xen_vpci_cfg_read(&pci, 0x00, 0, &v), -1);
	assert_int_equal(xen_vpci_cfg_read(&pci, 0x1000, 4, &v), -1);
	assert_int_equal(xen_vpci_cfg_read(&pci, 0xffffffffu, 1, &v), -1);
	assert_int_equal(xen_vpci_cfg_write(&pci, 0x11, 2, 0xffff), -1);
	assert_int_equal(xen_vpci_cfg_write(&pci, 0x12, 4, 0xffffffff), -1);
	assert_int_equal(xen_vpci_cfg_write(&pci, 0x1000, 4, 0), -1);
	assert_int_equal(rd(0x10, 4), 0);
}

static void test_decode(void **state)
{
	struct xen_vpci_bar b[XEN_VPCI_NBARS];
	uint8_t bar;
	uint64_t off;

	(void)state;
	wr(0x10, 4, 0xf0000000);
	wr(0x14, 4, 0xe0000000);
	wr(0x18, 4, 0);
	wr(0x1c, 4, 0x00000000);
	wr(0x20, 4, 0x1);                               /* BAR3 at 4 GiB */
	xen_vpci_bars(&pci, b);
	/* Memory decode off: nothing is decoded, nothing routes. */
	for (unsigned n = 0; n < XEN_VPCI_NBARS; n++)
		assert_false(b[n].decoded);
	assert_int_equal(xen_vpci_route(&pci, 0xf0000000, 4, &bar, &off), -1);
	assert_int_equal(b[0].base, 0xf0000000);
	assert_int_equal(b[0].size, 16 << 20);
	assert_int_equal(b[1].size, 256 << 20);
	assert_int_equal(b[2].size, 0);                 /* upper half of BAR1 */
	assert_int_equal(b[3].base, 0x100000000ull);

	wr(0x04, 2, PCI_CFG_CMD_MEMORY);
	xen_vpci_bars(&pci, b);
	assert_true(b[0].decoded);
	assert_true(b[1].decoded);
	assert_true(b[3].decoded);
	assert_false(b[5].decoded);
	assert_int_equal(xen_vpci_route(&pci, 0xf0000100, 4, &bar, &off), 0);
	assert_int_equal(bar, 0);
	assert_int_equal(off, 0x100);
	assert_int_equal(xen_vpci_route(&pci, 0xe0001000, 8, &bar, &off), 0);
	assert_int_equal(bar, 1);
	assert_int_equal(off, 0x1000);
	assert_int_equal(xen_vpci_route(&pci, 0x100000008ull, 4, &bar, &off), 0);
	assert_int_equal(bar, 3);
	assert_int_equal(off, 8);
	/* Straddling the end of BAR0, and outside every BAR. */
	assert_int_equal(xen_vpci_route(&pci, 0xf0fffffe, 4, &bar, &off), -1);
	assert_int_equal(xen_vpci_route(&pci, 0xf0fffffc, 4, &bar, &off), 0);
	assert_int_equal(xen_vpci_route(&pci, 0xf1000000, 4, &bar, &off), -1);
	assert_int_equal(xen_vpci_route(&pci, 0x0, 4, &bar, &off), -1);
	/* A BAR at 0 is not decoded even with memory on. */
	wr(0x10, 4, 0);
	xen_vpci_bars(&pci, b);
	assert_false(b[0].decoded);
	/* Decode off again. */
	wr(0x04, 2, 0);
	assert_int_equal(xen_vpci_route(&pci, 0xe0001000, 8, &bar, &off), -1);
	/* Reset: back to power-on. */
	wr(0x04, 2, PCI_CFG_CMD_MEMORY);
	xen_vpci_reset(&pci);
	assert_int_equal(rd(0x04, 2), 0);
	assert_int_equal(rd(0x14, 4), 0xc);
}

static uint32_t cf8(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return XEN_VPCI_CF8_ENABLE | bus << 16 | dev << 11 | fn << 8 | reg;
}

static uint32_t pio_rd(uint16_t port, unsigned size)
{
	uint32_t v = 0x5a5a5a5a;

	xen_vpci_pio(&pci, port, size, false, &v);
	return v;
}

static void pio_wr(uint16_t port, unsigned size, uint32_t v)
{
	xen_vpci_pio(&pci, port, size, true, &v);
}

static void test_cf8(void **state)
{
	uint32_t v = 0;

	(void)state;
	pio_wr(0xcf8, 4, cf8(0, 3, 0, 0x00));
	assert_int_equal(pio_rd(0xcf8, 4), cf8(0, 3, 0, 0));
	assert_int_equal(pio_rd(0xcfc, 4), 0x06d810de);
	assert_int_equal(pio_rd(0xcfc, 2), 0x10de);
	assert_int_equal(pio_rd(0xcfe, 2), 0x06d8);
	assert_int_equal(pio_rd(0xcff, 1), 0x06);
	/* Sizing a BAR through the ports. */
	pio_wr(0xcf8, 4, cf8(0, 3, 0, 0x10));
	pio_wr(0xcfc, 4, 0xffffffff);
	assert_int_equal(pio_rd(0xcfc, 4), 0xff000000);
	/* Low two bits of the latch are ignored (register is dword-aligned). */
	pio_wr(0xcf8, 4, cf8(0, 3, 0, 0x02) | 1);
	assert_int_equal(pio_rd(0xcfc, 2), 0x10de);
	/* Enable bit clear: nothing answers. */
	pio_wr(0xcf8, 4, cf8(0, 3, 0, 0) & ~XEN_VPCI_CF8_ENABLE);
	assert_int_equal(pio_rd(0xcfc, 4), 0xffffffff);
	/* Foreign functions read all ones and ignore writes. */
	pio_wr(0xcf8, 4, cf8(0, 4, 0, 0x00));
	assert_int_equal(pio_rd(0xcfc, 4), 0xffffffff);
	pio_wr(0xcf8, 4, cf8(0, 3, 1, 0x10));
	assert_int_equal(pio_rd(0xcfc, 4), 0xffffffff);
	pio_wr(0xcfc, 4, 0x12345678);
	pio_wr(0xcf8, 4, cf8(1, 3, 0, 0x10));
	assert_int_equal(pio_rd(0xcfc, 2), 0xffffffff);
	pio_wr(0xcf8, 4, cf8(0, 3, 0, 0x10));
	assert_int_equal(pio_rd(0xcfc, 4), 0xff000000);
	/* Non-dword accesses to 0xcf8-0xcfb are not CONFIG_ADDRESS. */
	pio_wr(0xcf9, 1, 0x06);
	pio_wr(0xcf8, 2, 0);
	assert_int_equal(pio_rd(0xcf8, 4), cf8(0, 3, 0, 0x10));
	assert_int_equal(pio_rd(0xcfa, 2), 0xffffffff);
	/* Outside the range, bad sizes, straddling 0xcff. */
	assert_int_equal(xen_vpci_pio(&pci, 0xcf7, 1, false, &v), -1);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(xen_vpci_pio(&pci, 0xd00, 1, false, &v), -1);
	assert_int_equal(xen_vpci_pio(&pci, 0xcfe, 4, false, &v), -1);
	assert_int_equal(xen_vpci_pio(&pci, 0xcfc, 3, false, &v), -1);
	assert_int_equal(xen_vpci_pio(&pci, 0xcfc, 8, false, &v), -1);
	/* Misaligned within the data window: denied by the config space. */
	assert_int_equal(xen_vpci_pio(&pci, 0xcfd, 2, false, &v), -1);
	assert_int_equal(v, 0xffffffff);
}

static void test_sbdf(void **state)
{
	struct xen_vpci_sbdf s;

	(void)state;
	assert_int_equal(xen_vpci_parse_sbdf("00:03.0", &s), 0);
	assert_int_equal(s.seg, 0);
	assert_int_equal(s.bus, 0);
	assert_int_equal(s.dev, 3);
	assert_int_equal(s.fn, 0);
	assert_int_equal(xen_vpci_sbdf_value(&s), 0x18);
	assert_true(xen_vpci_is_ours(&pci, 0x18));
	assert_false(xen_vpci_is_ours(&pci, 0x19));
	assert_int_equal(xen_vpci_parse_sbdf("0001:0a:1f.7", &s), 0);
	assert_int_equal(s.seg, 1);
	assert_int_equal(s.bus, 10);
	assert_int_equal(s.dev, 31);
	assert_int_equal(s.fn, 7);
	assert_int_equal(xen_vpci_sbdf_value(&s), 0x10aff);
	const char *bad[] = { "", "0:3.0", "00:20.0", "00:03.8", "00:03", "00:03.0 ",
			      "zz:03.0", "000:00:03.0", "0000-00:03.0", " 00:03.0", "00:+3.0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xen_vpci_parse_sbdf(bad[i], &s), -1);
	assert_int_equal(xen_vpci_parse_sbdf(NULL, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_identity, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_pv_bar, setup),
		cmocka_unit_test_setup(test_read_only, setup),
		cmocka_unit_test_setup(test_widths, setup),
		cmocka_unit_test_setup(test_garbage, setup),
		cmocka_unit_test_setup(test_decode, setup),
		cmocka_unit_test_setup(test_cf8, setup),
		cmocka_unit_test_setup(test_sbdf, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
