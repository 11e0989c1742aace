/*
 * Decoding and validating Xen ioreqs (mmio-trap/xen/xen_ioreq_decode.c):
 * a table of requests, each with what the vGPU must see and what the guest
 * gets back; BAR moves seen through config writes; buffered ioreqs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xen/xen_ioreq_decode.h"

#define BAR0 0xf0000000ull
#define BAR1 0xe0000000ull
#define BAR3 0x100000000ull

static struct xen_vpci pci;
static struct vgpu_io seen[8];
static unsigned nseen;

static void fake_mmio(void *arg, struct vgpu_io *io)
{
	(void)arg;
	if (nseen < 8)
		seen[nseen] = *io;
	nseen++;
	if (io->dir == VGPU_IO_READ)
		io->data = 0x1122334455667788ull ^ io->offset;
}

static void cfg_wr(unsigned reg, uint32_t v)
{
	assert_int_equal(xen_vpci_cfg_write(&pci, reg, 4, v), 0);
}

static int setup(void **state)
{
	struct xen_vpci_config cfg = { .sbdf = { 0, 0, 3, 0 } };

	(void)state;
	nseen = 0;
	memset(seen, 0, sizeof(seen));
	if (xen_vpci_init(&pci, &cfg))
		return -1;
	cfg_wr(0x10, (uint32_t)BAR0);
	cfg_wr(0x14, (uint32_t)BAR1);
	cfg_wr(0x18, 0);
	cfg_wr(0x1c, 0);
	cfg_wr(0x20, 1);
	cfg_wr(0x04, PCI_CFG_CMD_MEMORY);
	return 0;
}

struct req_case {
	const char *what;
	struct xen_ioreq_view in;
	enum xen_ioreq_result result;
	uint64_t data_out;      /* for reads */
	unsigned accesses;      /* vgpu_io calls */
	uint8_t bar;            /* of the first call */
	uint64_t offset;
};

#define MMIO_REP(d, a, s, c) .type = XEN_IOREQ_TYPE_COPY, .dir = (d), .addr = (a), .size = (s), .count = (c)
#define MMIO(d, a, s) MMIO_REP(d, a, s, 1)

static void test_table(void **state)
{
	static const struct req_case cases[] = {
		{ "bar0 read32", { MMIO(XEN_IOREQ_READ, BAR0 + 0x100, 4) }, XEN_IOREQ_OK,
		  (0x1122334455667788ull ^ 0x100) & 0xffffffff, 1, 0, 0x100 },
		{ "bar0 read8", { MMIO(XEN_IOREQ_READ, BAR0 + 0x3, 1) }, XEN_IOREQ_OK,
		  (0x88 ^ 3), 1, 0, 3 },
		{ "bar0 read16", { MMIO(XEN_IOREQ_READ, BAR0 + 0x2, 2) }, XEN_IOREQ_OK,
		  (0x7788 ^ 2), 1, 0, 2 },
		{ "bar1 read64", { MMIO(XEN_IOREQ_READ, BAR1 + 0x1000, 8) }, XEN_IOREQ_OK,
		  0x1122334455667788ull ^ 0x1000, 1, 1, 0x1000 },
		{ "bar3 write32", { MMIO(XEN_IOREQ_WRITE, BAR3 + 0x10, 4), .data = 0xdeadbeef },
		  XEN_IOREQ_OK, 0xdeadbeef, 1, 3, 0x10 },
		{ "bar0 last dword", { MMIO(XEN_IOREQ_READ, BAR0 + (16 << 20) - 4, 4) }, XEN_IOREQ_OK,
		  (0x1122334455667788ull ^ ((16 << 20) - 4)) & 0xffffffff, 1, 0, (16 << 20) - 4 },
		{ "rep stos x4", { MMIO_REP(XEN_IOREQ_WRITE, BAR1, 4, 4), .data = 7 },
		  XEN_IOREQ_OK, 7, 4, 1, 0 },
		{ "rep backwards", { MMIO_REP(XEN_IOREQ_WRITE, BAR1 + 0x10, 4, 2), .df = 1 },
		  XEN_IOREQ_OK, 0, 2, 1, 0x10 },
		{ "straddles bar0 end", { MMIO(XEN_IOREQ_READ, BAR0 + (16 << 20) - 2, 4) },
		  XEN_IOREQ_DENIED, 0xffffffff, 0, 0, 0 },
		{ "outside bars", { MMIO(XEN_IOREQ_READ, 0xd0000000, 4) }, XEN_IOREQ_DENIED,
		  0xffffffff, 0, 0, 0 },
		{ "size 3", { MMIO(XEN_IOREQ_READ, BAR0, 3) }, XEN_IOREQ_DENIED, 0xffffff, 0, 0, 0 },
		{ "size 16", { MMIO(XEN_IOREQ_READ, BAR0, 16) }, XEN_IOREQ_DENIED, ~0ull, 0, 0, 0 },
		{ "size 0", { MMIO(XEN_IOREQ_READ, BAR0, 0) }, XEN_IOREQ_DENIED, ~0ull, 0, 0, 0 },
		{ "data is ptr", { MMIO(XEN_IOREQ_WRITE, BAR0, 4), .data_is_ptr = 1 },
		  XEN_IOREQ_DENIED, 0, 0, 0, 0 },
		{ "count 0", { MMIO_REP(XEN_IOREQ_READ, BAR0, 4, 0) }, XEN_IOREQ_DENIED,
		  0xffffffff, 0, 0, 0 },
		{ "count huge", { MMIO_REP(XEN_IOREQ_WRITE, BAR0, 4, 100000) },
		  XEN_IOREQ_DENIED, 0, 0, 0, 0 },
		{ "rep runs off bar", { MMIO_REP(XEN_IOREQ_WRITE, BAR0 + (16 << 20) - 8, 4, 3) },
		  XEN_IOREQ_DENIED, 0, 0, 0, 0 },
		{ "wrapping address", { MMIO(XEN_IOREQ_READ, ~0ull - 1, 4) }, XEN_IOREQ_DENIED,
		  0xffffffff, 0, 0, 0 },
		{ "invalidate", { .type = XEN_IOREQ_TYPE_INVALIDATE }, XEN_IOREQ_IGNORED, 0, 0, 0, 0 },
		{ "timeoffset", { .type = XEN_IOREQ_TYPE_TIMEOFFSET, .count = 1 }, XEN_IOREQ_IGNORED,
		  0, 0, 0, 0 },
		{ "unknown type", { .type = 5, .dir = XEN_IOREQ_READ, .size = 4, .count = 1 },
		  XEN_IOREQ_DENIED, 0xffffffff, 0, 0, 0 },
		{ "pio elsewhere", { .type = XEN_IOREQ_TYPE_PIO, .dir = XEN_IOREQ_READ, .addr = 0x60,
				     .size = 1, .count = 1 }, XEN_IOREQ_DENIED, 0xff, 0, 0, 0 },
		{ "pio big port", { .type = XEN_IOREQ_TYPE_PIO, .dir = XEN_IOREQ_READ,
				    .addr = 0x10cf8, .size = 4, .count = 1 }, XEN_IOREQ_DENIED,
		  0xffffffff, 0, 0, 0 },
		{ "pio string", { .type = XEN_IOREQ_TYPE_PIO, .dir = XEN_IOREQ_WRITE, .addr = 0xcf8,
				  .size = 4, .count = 2 }, XEN_IOREQ_DENIED, 0, 0, 0, 0 },
		{ "cfg vendor", { .type = XEN_IOREQ_TYPE_PCI_CONFIG, .dir = XEN_IOREQ_READ,
				  .addr = 0x18ull << 32, .size = 4, .count = 1 }, XEN_IOREQ_OK,
		  0x06d810de, 0, 0, 0 },
		{ "cfg foreign", { .type = XEN_IOREQ_TYPE_PCI_CONFIG, .dir = XEN_IOREQ_READ,
				   .addr = 0x20ull << 32, .size = 2, .count = 1 }, XEN_IOREQ_DENIED,
		  0xffff, 0, 0, 0 },
		{ "cfg misaligned", { .type = XEN_IOREQ_TYPE_PCI_CONFIG, .dir = XEN_IOREQ_READ,
				      .addr = 0x18ull << 32 | 1, .size = 2, .count = 1 },
		  XEN_IOREQ_DENIED, 0xffff, 0, 0, 0 },
		{ "cfg size 8", { .type = XEN_IOREQ_TYPE_PCI_CONFIG, .dir = XEN_IOREQ_READ,
				  .addr = 0x18ull << 32, .size = 8, .count = 1 }, XEN_IOREQ_DENIED,
		  ~0ull, 0, 0, 0 },
		{ "cfg huge reg", { .type = XEN_IOREQ_TYPE_PCI_CONFIG, .dir = XEN_IOREQ_READ,
				    .addr = 0x18ull << 32 | 0x10000, .size = 4, .count = 1 },
		  XEN_IOREQ_DENIED, 0xffffffff, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];
		struct xen_ioreq_view r = c->in;
		struct xen_ioreq_outcome out;

		print_message("case %s\n", c->what);
		nseen = 0;
		xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
		assert_int_equal(out.result, c->result);
		if (c->result == XEN_IOREQ_DENIED)
			assert_non_null(out.why);
		assert_int_equal(nseen, c->accesses);
		assert_int_equal(out.mmio_accesses, c->accesses);
		if (c->in.dir == XEN_IOREQ_READ)
			assert_int_equal(r.data, c->data_out);
		if (c->accesses) {
			assert_int_equal(seen[0].bar, c->bar);
			assert_int_equal(seen[0].offset, c->offset);
			assert_int_equal(seen[0].size, c->in.size);
			assert_int_equal(seen[0].dir, c->in.dir == XEN_IOREQ_READ ? VGPU_IO_READ
										 : VGPU_IO_WRITE);
			if (c->in.dir == XEN_IOREQ_WRITE)
				assert_int_equal(seen[0].data, c->in.data);
		}
	}
	/* rep backwards: the second access is one element lower. */
	{
		struct xen_ioreq_view r = { MMIO_REP(XEN_IOREQ_WRITE, BAR1 + 0x10, 4, 2), .df = 1 };
		struct xen_ioreq_outcome out;

		nseen = 0;
		xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
		assert_int_equal(seen[1].offset, 0xc);
	}
	/* A write's data is truncated to its size. */
	{
		struct xen_ioreq_view r = { MMIO(XEN_IOREQ_WRITE, BAR0, 2), .data = 0xabcdef };
		struct xen_ioreq_outcome out;

		nseen = 0;
		xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
		assert_int_equal(seen[0].data, 0xcdef);
	}
}

static void test_bar_moves(void **state)
{
	struct xen_ioreq_view r = { .type = XEN_IOREQ_TYPE_PCI_CONFIG, .dir = XEN_IOREQ_WRITE,
				    .addr = 0x18ull << 32 | 0x10, .size = 4, .count = 1,
				    .data = 0xc0000000 };
	struct xen_ioreq_outcome out;
	struct xen_vpci_bar b[XEN_VPCI_NBARS];

	(void)state;
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_int_equal(out.result, XEN_IOREQ_OK);
	assert_true(out.bars_changed);
	xen_vpci_bars(&pci, b);
	assert_int_equal(b[0].base, 0xc0000000);
	/* The same value again: nothing changed. */
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_false(out.bars_changed);
	/* The old address no longer routes, the new one does. */
	r = (struct xen_ioreq_view){ MMIO(XEN_IOREQ_READ, BAR0, 4) };
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_int_equal(out.result, XEN_IOREQ_DENIED);
	r = (struct xen_ioreq_view){ MMIO(XEN_IOREQ_READ, 0xc0000000, 4) };
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_int_equal(out.result, XEN_IOREQ_OK);
	/* Memory decode off through the ports (PVH): every BAR changes. */
	r = (struct xen_ioreq_view){ .type = XEN_IOREQ_TYPE_PIO, .dir = XEN_IOREQ_WRITE,
				     .addr = 0xcf8, .size = 4, .count = 1,
				     .data = 0x80000000u | 3 << 11 | 0x04 };
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_false(out.bars_changed);
	r = (struct xen_ioreq_view){ .type = XEN_IOREQ_TYPE_PIO, .dir = XEN_IOREQ_WRITE,
				     .addr = 0xcfc, .size = 2, .count = 1, .data = 0 };
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_int_equal(out.result, XEN_IOREQ_OK);
	assert_true(out.bars_changed);
	r = (struct xen_ioreq_view){ MMIO(XEN_IOREQ_READ, 0xc0000000, 4) };
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_int_equal(out.result, XEN_IOREQ_DENIED);
	/* Reading it back through 0xcfc. */
	r = (struct xen_ioreq_view){ .type = XEN_IOREQ_TYPE_PIO, .dir = XEN_IOREQ_READ,
				     .addr = 0xcfc, .size = 4, .count = 1 };
	xen_ioreq_serve(&pci, &r, fake_mmio, NULL, &out);
	assert_int_equal(r.data, 0);
}

static uint32_t buf_word(unsigned type, unsigned dir, unsigned size_code, uint32_t addr)
{
	return type | dir << 9 | size_code << 10 | addr << 12;
}

static void test_buffered(void **state)
{
	uint32_t s1[2] = { buf_word(XEN_IOREQ_TYPE_COPY, 0, 2, 0xa0010), 0x12345678 };
	uint32_t s8[2] = { buf_word(XEN_IOREQ_TYPE_COPY, 0, 3, 0xa0020), 0x9abcdef0 };
	uint32_t hi[2] = { 0, 0x11223344 };
	struct xen_ioreq_view r;

	(void)state;
	assert_int_equal(xen_bufioreq_decode(s1, NULL, &r), 1);
	assert_int_equal(r.type, XEN_IOREQ_TYPE_COPY);
	assert_int_equal(r.dir, XEN_IOREQ_WRITE);
	assert_int_equal(r.size, 4);
	assert_int_equal(r.addr, 0xa0010);
	assert_int_equal(r.data, 0x12345678);
	assert_int_equal(r.count, 1);
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(xen_bufioreq_decode(s8, NULL, &r), 0);
	assert_int_equal(r.size, 0x5a5a5a5a);           /* untouched */
	assert_int_equal(xen_bufioreq_decode(s8, hi, &r), 2);
	assert_int_equal(r.size, 8);
	assert_int_equal(r.data, 0x112233449abcdef0ull);
	s1[0] = buf_word(XEN_IOREQ_TYPE_TIMEOFFSET, 0, 0, 0);
	assert_int_equal(xen_bufioreq_decode(s1, NULL, &r), 1);
	assert_int_equal(r.type, XEN_IOREQ_TYPE_TIMEOFFSET);
	assert_int_equal(r.size, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_table, setup),
		cmocka_unit_test_setup(test_bar_moves, setup),
		cmocka_unit_test_setup(test_buffered, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
