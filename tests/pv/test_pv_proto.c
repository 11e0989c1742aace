/*
 * The PV service in-process: registers, each operation, per-entry and
 * per-batch validation, a random and malformed-batch fuzz with the
 * isolation checker after every doorbell, and mode switching at the
 * quiescent point.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "util_pv.h"
#include "vgpu_internal.h"

#define MIB (1ull << 20)

static void assert_isolated(struct pvg *g)
{
	char why[256] = "";

	if (!pvg_isolated(g, why, sizeof(why)))
		fail_msg("isolation: %s", why);
	assert_int_equal(gpusim_audit_total(g->sim), 0);
}

static struct gpuvm_pv_req map_req(uint32_t h, uint64_t va, uint64_t addr, uint64_t size, uint32_t flags)
{
	return (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_MAP, .handle = h, .va = va, .addr = addr,
				      .size = size, .flags = flags };
}

static void test_registers_full_mode(void **state)
{
	struct pvg g;
	struct gpuvm_pv_req nop = { .op = GPUVM_PV_OP_NOP };

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_FULL, 64), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_ID), GPUVM_PV_MAGIC);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_VER), GPUVM_PV_VERSION);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MODE), GPUVM_PV_MODE_FULL);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FEATURES), GPUVM_PV_F_FRESH | GPUVM_PV_F_RESET);
	/* The BAR0 alias reaches the same page. */
	{
		struct vgpu_io io = { .bar = 0, .dir = VGPU_IO_READ, .size = 4, .offset = GPUVM_PV_BAR0_BASE };

		vgpu_mmio(g.v, &io);
		assert_int_equal(io.data, GPUVM_PV_MAGIC);
	}
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	assert_int_equal(pvg_one(&g, &nop, NULL), -EPERM);
	pvg_teardown(&g);
}

static void test_map_translate_flush(void **state)
{
	struct pvg g;
	uint32_t h;
	uint64_t gp = 0;
	struct gpuvm_pv_req r;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MODE), GPUVM_PV_MODE_PV);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MAX_BATCH), GPUVM_PV_BATCH_MAX);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	h = pvg_space(&g);
	assert_int_not_equal(h, 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_RESULT), h);
	r = map_req(h, 0x10000000, 0x400000, 4 * MIB, GPUVM_PV_MAP_LARGE);
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	r = map_req(h, 0x20000000, 0x800000, 0x3000, 0);
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_FLUSH, .handle = h };
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	assert_true(vgpu_pv_translate(g.v, vgpu_pv_space_find(g.v, h)->pd, 0x10020010, &gp));
	assert_int_equal(gp, 0x420010);
	assert_true(vgpu_pv_translate(g.v, vgpu_pv_space_find(g.v, h)->pd, 0x20002008, &gp));
	assert_int_equal(gp, 0x802008);
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_UNMAP, .handle = h, .va = 0x20000000, .size = 0x3000 };
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	assert_false(vgpu_pv_translate(g.v, vgpu_pv_space_find(g.v, h)->pd, 0x20002008, &gp));
	assert_isolated(&g);
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_AS_DESTROY, .handle = h };
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	pvg_teardown(&g);
}

/* Every bad entry gets its own error; the good ones in the same batch run. */
static void test_entry_validation(void **state)
{
	struct pvg g;
	uint32_t h, dead;
	struct gpuvm_pv_req b[12];
	unsigned n = 0;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	h = pvg_space(&g);
	dead = pvg_space(&g);
	{
		struct gpuvm_pv_req d = { .op = GPUVM_PV_OP_AS_DESTROY, .handle = dead };

		assert_int_equal(pvg_one(&g, &d, NULL), 0);
	}
	b[n++] = (struct gpuvm_pv_req){ .op = 99 };                                   /* bad opcode */
	b[n++] = map_req(h, 0x10000000, 60 * MIB, 8 * MIB, GPUVM_PV_MAP_LARGE);       /* past the partition */
	b[n++] = map_req(h, 0x10000000, 0x400000, 0x20000, GPUVM_PV_MAP_LARGE);       /* good */
	b[n++] = map_req(h, 0x10000000, 0x600000, 0x1000, 0);                         /* overlaps the good one */
	b[n++] = map_req(dead, 0x30000000, 0, 0x1000, 0);                             /* stale handle */
	b[n++] = map_req(h, 0x30000800, 0, 0x1000, 0);                                /* misaligned */
	b[n++] = map_req(h, (8191ull << 27), 0, 0x1000, 0);                           /* the hole */
	b[n++] = map_req(h, 0x30000000, 0, 0x1000, 0x80);                             /* unknown flag */
	b[n++] = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP, .reserved = { 1 } };  /* reserved set */
	b[n++] = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_CHAN_BIND, .handle = h, .flags = 8 };  /* vchid */
	b[n++] = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_CHAN_BIND, .handle = h, .addr = 1ull << 40 };
	b[n++] = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_CHAN_UNBIND, .flags = 3 };  /* not bound */
	for (unsigned i = 0; i < n; i++) {
		*pvg_entry(&g, i) = b[i];
		pvg_entry(&g, i)->status = GPUVM_PV_ST_NEW;
	}
	assert_int_equal(pvg_ring(&g, 0, n), (int32_t)n - 1);
	assert_int_equal(pvg_entry(&g, 0)->status, -EOPNOTSUPP);
	assert_int_equal(pvg_entry(&g, 1)->status, -EFAULT);
	assert_int_equal(pvg_entry(&g, 2)->status, 0);
	assert_int_equal(pvg_entry(&g, 3)->status, -EEXIST);
	assert_int_equal(pvg_entry(&g, 4)->status, -ENOENT);
	assert_int_equal(pvg_entry(&g, 5)->status, -EINVAL);
	assert_int_equal(pvg_entry(&g, 6)->status, -ERANGE);
	assert_int_equal(pvg_entry(&g, 7)->status, -EINVAL);
	assert_int_equal(pvg_entry(&g, 8)->status, -EINVAL);
	assert_int_equal(pvg_entry(&g, 9)->status, -EINVAL);
	assert_int_equal(pvg_entry(&g, 10)->status, -EFAULT);
	assert_int_equal(pvg_entry(&g, 11)->status, -ENOENT);
	assert_isolated(&g);
	pvg_teardown(&g);
}

/* A refused batch runs nothing. */
static void test_batch_validation(void **state)
{
	struct pvg g;
	uint32_t entries = PVG_AREA_SIZE / GPUVM_PV_REQ_SIZE;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	assert_int_equal(pvg_ring(&g, 0, 1), -ENXIO);                    /* no area */
	pvg_arm(&g, 63 * MIB, 2 * (uint32_t)MIB);                        /* leaves the partition */
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_STATUS), -EFAULT);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_AREA_SIZE), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	*pvg_entry(&g, 0) = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_AS_CREATE, .size = 1ull << 30, .status = 1 };
	assert_int_equal(pvg_ring(&g, 0, 0), -E2BIG);
	assert_int_equal(pvg_ring(&g, 0, GPUVM_PV_BATCH_MAX + 1), -E2BIG);
	assert_int_equal(pvg_ring(&g, entries - 2, 3), -EOVERFLOW);      /* truncated */
	assert_int_equal(pvg_ring(&g, 0xffffffffu, 2), -EOVERFLOW);
	assert_int_equal(pvg_entry(&g, 0)->status, 1);                   /* untouched */
	assert_int_equal(vgpu_pv_spaces_live(g.v), 0);
	pvg_teardown(&g);

	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV_NAIVE, 64), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MAX_BATCH), 1);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	assert_int_equal(pvg_ring(&g, 0, 2), -E2BIG);
	assert_int_not_equal(pvg_space(&g), 0);
	pvg_teardown(&g);
}

/* PTE writes on the guest's own BAR1 tables, and their validation. */
static void test_bar_map(void **state)
{
	struct pvg g;
	struct gpuvm_pv_req r;
	uint32_t magic = 0x5a5aa5a5u;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_BAR_MAP, .handle = 1, .va = 0x3000, .addr = 0x600000,
				   .size = 0x2000 };
	assert_int_equal(pvg_one(&g, &r, NULL), -ENODEV);          /* BAR1 not bound yet */
	pvg_bind_bar1(&g);
	memcpy(g.v->mem + 0x601000, &magic, 4);
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	assert_int_equal(pvg_bar_read(&g, 1, 0x4000), magic);
	/* Data pages are remapped; the table itself never is. */
	assert_isolated(&g);
	r.handle = 2;
	assert_int_equal(pvg_one(&g, &r, NULL), -EINVAL);           /* no such BAR */
	r.handle = 1;
	r.addr = 63ull << 20;
	r.size = 2ull << 20;
	assert_int_equal(pvg_one(&g, &r, NULL), -EFAULT);           /* leaves the partition */
	r.addr = 0;
	r.size = 0x1000;
	r.va = 256ull << 20;
	assert_int_equal(pvg_one(&g, &r, NULL), -ERANGE);           /* past the BAR */
	r.va = 0x20000;
	r.flags = GPUVM_PV_MAP_LARGE;
	r.size = 0x20000;
	assert_int_equal(pvg_one(&g, &r, NULL), -ENXIO);            /* no large table */
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_BAR_UNMAP, .handle = 1, .va = 0x3000, .size = 0x2000 };
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	assert_int_equal(pvg_bar_read(&g, 1, 0x4000), ~0ull);    /* unmapped: all ones */
	assert_isolated(&g);
	pvg_teardown(&g);
}

/* ---- version 1 extensions: RUN, CHAN_RUN, SUBMIT, BAR_COHERENT --------------------------------- */

static const uint32_t fast_features = GPUVM_PV_F_RUN | GPUVM_PV_F_CHAN_RUN | GPUVM_PV_F_SUBMIT |
				      GPUVM_PV_F_BAR_COHERENT;

static void test_features_per_mode(void **state)
{
	struct pvg g;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FEATURES), GPUVM_PV_F_OPS | GPUVM_PV_F_BATCH |
			 GPUVM_PV_F_DAEMON_PT | fast_features | GPUVM_PV_F_FRESH | GPUVM_PV_F_RESET);
	pvg_teardown(&g);
	/* pv-naive stays the one-request interface it is measured as. */
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV_NAIVE, 64), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FEATURES), GPUVM_PV_F_OPS | GPUVM_PV_F_DAEMON_PT |
			 GPUVM_PV_F_FRESH | GPUVM_PV_F_RESET);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	*pvg_entry(&g, 0) = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP, .status = GPUVM_PV_ST_NEW };
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), -EOPNOTSUPP);
	assert_int_equal(pvg_entry(&g, 0)->status, GPUVM_PV_ST_NEW);
	pvg_teardown(&g);
	assert_int_equal(pvg_setup(&g, VGPU_MODE_FULL, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	*pvg_entry(&g, 0) = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP, .status = GPUVM_PV_ST_NEW };
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), -EPERM);
	assert_int_equal(pvg_entry(&g, 0)->status, GPUVM_PV_ST_NEW);
	pvg_teardown(&g);
}

static void queue_new(struct pvg *g, unsigned i, struct gpuvm_pv_req r)
{
	*pvg_entry(g, i) = r;
	pvg_entry(g, i)->status = GPUVM_PV_ST_NEW;
}

/* RUN runs exactly the entries still marked new, and answers with STATUS. */
static void test_run_register(void **state)
{
	struct pvg g;
	uint32_t entries = PVG_AREA_SIZE / GPUVM_PV_REQ_SIZE, h;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), -ENXIO);           /* no area */
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	queue_new(&g, 0, (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_AS_CREATE, .size = 1ull << 30 });
	queue_new(&g, 1, (struct gpuvm_pv_req){ .op = 77 });
	queue_new(&g, 2, (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP });
	/* Entry 3 is the terminator; entry 4 is new but lies past it. */
	*pvg_entry(&g, 3) = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP, .status = 0 };
	queue_new(&g, 4, (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_AS_CREATE, .size = 1ull << 30 });
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), 1);                /* one failed */
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_STATUS), 1);
	h = pvg_entry(&g, 0)->handle;
	assert_int_equal(pvg_entry(&g, 0)->status, 0);
	assert_non_null(vgpu_pv_space_find(g.v, h));
	assert_int_equal(pvg_entry(&g, 1)->status, -EOPNOTSUPP);
	assert_int_equal(pvg_entry(&g, 2)->status, 0);
	assert_int_equal(pvg_entry(&g, 4)->status, GPUVM_PV_ST_NEW);           /* not run */
	assert_int_equal(vgpu_pv_spaces_live(g.v), 1);
	/* Nothing new at FIRST: refused as an empty doorbell, nothing changes. */
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), -E2BIG);
	assert_int_equal(pvg_entry(&g, 4)->status, GPUVM_PV_ST_NEW);
	/* From FIRST, never past the end of the area. */
	pvg_wr(&g, GPUVM_PV_FIRST, entries - 2);
	queue_new(&g, entries - 2, (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP });
	queue_new(&g, entries - 1, (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP });
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), 0);
	assert_int_equal(pvg_entry(&g, entries - 1)->status, 0);
	pvg_wr(&g, GPUVM_PV_FIRST, entries);
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), -E2BIG);
	/* A batch on a page the daemon tracks is refused whole. */
	pvg_bind_bar1(&g);
	pvg_arm(&g, PVG_BAR_SPT, PVG_AREA_SIZE);
	*pvg_entry(&g, 0) = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_AS_CREATE, .size = 1ull << 30,
						   .status = GPUVM_PV_ST_NEW };
	pvg_wr(&g, GPUVM_PV_FIRST, 0);
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), -EBUSY);
	assert_int_equal(pvg_entry(&g, 0)->status, GPUVM_PV_ST_NEW);
	assert_int_equal(vgpu_pv_spaces_live(g.v), 1);
	assert_isolated(&g);
	pvg_teardown(&g);
}

#define CH_INST     0x200000ull     /* guest physical */
#define CH_USERD    0x210000ull
#define CH_RING     0x220000ull     /* GPFIFO ring, 512 entries */
#define CH_PB       0x221000ull     /* one pushbuffer segment */
#define CH_SEM      0x222000ull     /* semaphore the segment releases */
#define CH_VA       0x10000000ull   /* ring, then pushbuffer, then semaphore page */
#define CH_ORDER    9u

/* A channel's memory as a driver leaves it: RAMFC, and one GPFIFO entry
 * whose segment releases 0xcafe at the semaphore page. */
static void channel_memory(struct pvg *g, uint32_t h)
{
	uint8_t *m = g->v->mem;
	uint64_t sem_va = CH_VA + 0x2000;
	const uint32_t seg[5] = { nv_pb_hdr(NV_PB_OP_INC, 0, NV906F_SEMAPHORE_HI, 4), (uint32_t)(sem_va >> 32),
				  (uint32_t)sem_va, 0xcafe, NV906F_SEM_RELEASE };
	const uint32_t ramfc[][2] = {
		{ NV_RAMFC_USERD_LO, (uint32_t)CH_USERD }, { NV_RAMFC_USERD_HI, 0 },
		{ NV_RAMFC_GP_BASE_LO, (uint32_t)CH_VA }, { NV_RAMFC_GP_BASE_HI, CH_ORDER << 16 },
	};
	uint32_t e[2];
	struct gpuvm_pv_req r = map_req(h, CH_VA, CH_RING, 0x3000, 0);

	for (unsigned i = 0; i < sizeof(ramfc) / sizeof(ramfc[0]); i++)
		memcpy(m + CH_INST + ramfc[i][0], &ramfc[i][1], 4);
	memcpy(m + CH_PB, seg, sizeof(seg));
	nv_gp_entry(e, CH_VA + 0x1000, 5);
	memcpy(m + CH_RING, e, sizeof(e));
	assert_int_equal(pvg_one(g, &r, NULL), 0);
}

static bool sem_released(struct pvg *g)
{
	for (unsigned i = 0; i < 2000; i++) {
		struct timespec ts = { 0, 1000000 };

		if (__atomic_load_n((uint32_t *)(void *)(g->v->mem + CH_SEM), __ATOMIC_ACQUIRE) == 0xcafe)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static int32_t chan_req(struct pvg *g, uint32_t op, uint32_t h, uint32_t flags, uint64_t va)
{
	struct gpuvm_pv_req r = { .op = op, .handle = h, .flags = flags, .va = va,
				  .addr = op == GPUVM_PV_OP_CHAN_BIND ? CH_INST : 0 };

	return pvg_one(g, &r, NULL);
}

/* CHAN_BIND with CHAN_RUN lists and starts the channel; SUBMIT goes through the scheduler. */
static void test_chan_run_and_submit(void **state)
{
	struct pvg g;
	struct vgpu_info info;
	struct gpuvm_pv_req r;
	uint32_t h;
	int pchid;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	h = pvg_space(&g);
	channel_memory(&g, h);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_BIND, h, 2 | GPUVM_PV_CHAN_RUN | 0x100, 0), -EINVAL);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, 0, 2, 1), -ENOENT);       /* not bound */
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_BIND, h, 2 | GPUVM_PV_CHAN_RUN, 0), 0);
	pchid = g.v->chan[2].pchid;
	assert_true(pchid >= 0);
	assert_true(g.v->chan[2].listed);
	assert_true(g.host->chan[pchid].listed);
	assert_int_equal(vgpu_chan_read(g.v, NV_PFIFO_CHAN_CTRL(2)) & NV_CHAN_CTRL_RUNNABLE,
			 NV_CHAN_CTRL_RUNNABLE);
	/* Bad submissions change nothing. */
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, 0, 8, 1), -EINVAL);       /* vchid */
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, 0, 2, 1u << CH_ORDER), -EINVAL);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, h, 2, 1), -EINVAL);       /* handle set */
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_SUBMIT, .flags = 2, .va = 1, .size = 8 };
	assert_int_equal(pvg_one(&g, &r, NULL), -EINVAL);
	vgpu_get_info(g.v, &info);
	assert_int_equal(info.submissions, 0);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, 0, 2, 1), 0);
	assert_true(sem_released(&g));
	vgpu_get_info(g.v, &info);
	assert_int_equal(info.submissions, 1);
	assert_int_equal(info.faults, 0);
	assert_isolated(&g);
	/* The unbind takes it off the runlist too, and the id starts clean again. */
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_UNBIND, 0, 2, 0), 0);
	assert_int_equal(g.v->chan[2].pchid, -1);
	assert_false(g.v->chan[2].listed);
	assert_false(g.host->chan[pchid].listed);
	assert_int_equal(vgpu_chan_read(g.v, NV_PFIFO_CHAN_CTRL(2)), 0);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, 0, 2, 2), -ENOENT);
	assert_isolated(&g);
	pvg_teardown(&g);

	/* Neither extension exists in pv-naive. */
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV_NAIVE, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	h = pvg_space(&g);
	channel_memory(&g, h);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_BIND, h, 2 | GPUVM_PV_CHAN_RUN, 0), -EINVAL);
	assert_int_equal(g.v->chan[2].pchid, -1);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_BIND, h, 2, 0), 0);
	assert_false(g.v->chan[2].listed);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_SUBMIT, 0, 2, 1), -EINVAL);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_UNBIND, 0, 2, 0), 0);
	assert_isolated(&g);
	pvg_teardown(&g);
}

static void bar0_write(struct pvg *g, uint32_t reg, uint32_t val)
{
	struct vgpu_io io = { .bar = 0, .dir = VGPU_IO_WRITE, .size = 4, .offset = reg, .data = val };

	vgpu_mmio(g->v, &io);
}

/* FRESH: 1 from a scrub until anything can have written the partition. */
static void test_fresh_register(void **state)
{
	struct pvg g;
	uint32_t h;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_FULL, 64), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 1);
	/* Register traffic that writes no memory leaves it fresh. */
	bar0_write(&g, NV_PBUS_PRAMIN_BASE, 0x10);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 1);
	/* One word through PRAMIN: no longer. */
	bar0_write(&g, NV_PRAMIN_WINDOW + 0x40, 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 0);
	/* A reset scrubs it again. */
	vgpu_reset(g.v);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 1);
	/* A BAR binding opens direct access. */
	pvg_bind_bar1(&g);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 0);
	pvg_teardown(&g);
	/* A batch of requests counts as a write too, even one that only creates a space. */
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 1);
	h = pvg_space(&g);
	assert_int_not_equal(h, 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 0);
	pvg_teardown(&g);
}

static uint32_t bar0_read(struct pvg *g, uint32_t reg)
{
	struct vgpu_io io = { .bar = 0, .dir = VGPU_IO_READ, .size = 4, .offset = reg };

	vgpu_mmio(g->v, &io);
	return (uint32_t)io.data;
}

/*
 * RESET: the guest's own reset of an idle vGPU scrubs the partition and
 * makes it FRESH; a stray value does nothing; a vGPU with live state (here
 * a PV address space) refuses with -EBUSY and keeps everything.
 */
static void test_reset_register(void **state)
{
	struct pvg g;
	uint32_t h;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_FULL, 64), 0);
	bar0_write(&g, NV_PBUS_PRAMIN_BASE, 0x10);
	bar0_write(&g, NV_PRAMIN_WINDOW + 0x40, 0x1234);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 0);
	pvg_wr(&g, GPUVM_PV_RESET, GPUVM_PV_SWITCH_NOW);
	assert_int_equal(bar0_read(&g, NV_PRAMIN_WINDOW + 0x40), 0x1234);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 0);
	pvg_wr(&g, GPUVM_PV_RESET, GPUVM_PV_RESET_NOW);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_STATUS), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_FRESH), 1);
	/* The registers are back to power-on too: point the window again. */
	bar0_write(&g, NV_PBUS_PRAMIN_BASE, 0x10);
	assert_int_equal(bar0_read(&g, NV_PRAMIN_WINDOW + 0x40), 0);
	pvg_teardown(&g);

	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	h = pvg_space(&g);
	assert_int_not_equal(h, 0);
	pvg_wr(&g, GPUVM_PV_RESET, GPUVM_PV_RESET_NOW);
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_STATUS), -EBUSY);
	/* The space is still there: a request on it succeeds. */
	{
		struct gpuvm_pv_req flush = { .op = GPUVM_PV_OP_FLUSH, .handle = h };

		assert_int_equal(pvg_one(&g, &flush, NULL), 0);
	}
	assert_isolated(&g);
	pvg_teardown(&g);
}

/*
 * A RUN read is an access that runs requests: a channel bound through it
 * starts tracking its instance block, which must leave the remap table at
 * once, as after a doorbell write.
 */
static void test_run_refreshes_remap(void **state)
{
	struct pvg g;
	struct gpuvm_pv_req r;
	uint32_t h;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	pvg_bind_bar1(&g);
	h = pvg_space(&g);
	channel_memory(&g, h);
	r = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_BAR_MAP, .handle = 1, .va = 0x5000, .addr = CH_INST,
				   .size = 0x1000 };
	assert_int_equal(pvg_one(&g, &r, NULL), 0);
	assert_int_not_equal(g.v->bar1.remap[5], 0);           /* plain data: remapped */
	queue_new(&g, 0, (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_CHAN_BIND, .handle = h,
						.flags = 1 | GPUVM_PV_CHAN_RUN, .addr = CH_INST });
	*pvg_entry(&g, 1) = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP, .status = 0 };
	pvg_wr(&g, GPUVM_PV_FIRST, 0);
	assert_int_equal((int32_t)pvg_rd(&g, GPUVM_PV_RUN), 0);
	assert_int_equal(g.v->bar1.remap[5], 0);               /* now tracked: traps */
	assert_isolated(&g);
	assert_int_equal(chan_req(&g, GPUVM_PV_OP_CHAN_UNBIND, 0, 1, 0), 0);
	assert_int_not_equal(g.v->bar1.remap[5], 0);
	assert_isolated(&g);
	pvg_teardown(&g);
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[(size_t)rand() % n];
}

static void fuzz_entry(struct gpuvm_pv_req *e, const uint32_t *handles, unsigned nh)
{
	static const uint64_t vas[] = { 0, 0x1000, 0x10000000, 0x10020000, 0x7fff000, 8191ull << 27,
					(1ull << 40) - 0x1000, 1ull << 40, ~0ull, 0x20001800 };
	static const uint64_t addrs[] = { 0, 0x1000, 0x400000, 63ull << 20, 64ull << 20, ~0ull,
					  0x3ff000, 1ull << 63 };
	static const uint64_t sizes[] = { 0, 0x1000, 0x20000, 0x400000, 1ull << 30, ~0ull, 0x1800,
					  1ull << 40 };

	memset(e, 0, sizeof(*e));
	e->op = (uint32_t)(rand() % (GPUVM_PV_OP_COUNT + 2));
	e->handle = rand() % 4 ? handles[(unsigned)rand() % nh] : (uint32_t)rand();
	if (e->op >= GPUVM_PV_OP_BAR_MAP && rand() % 2)
		e->handle = rand() % 2 ? 1 : 3;
	e->flags = rand() % 4 ? (uint32_t)(rand() % 4) : (uint32_t)rand();
	if (rand() % 8 == 0)
		e->flags |= GPUVM_PV_CHAN_RUN;
	e->va = rand() % 3 ? pick(vas, sizeof(vas) / 8) + (uint64_t)(rand() % 64) * 0x20000 : (uint64_t)rand() << 12;
	e->addr = pick(addrs, sizeof(addrs) / 8);
	e->size = pick(sizes, sizeof(sizes) / 8);
	if (e->op == GPUVM_PV_OP_SUBMIT && rand() % 2) {
		e->va = (uint64_t)(rand() % 1024);     /* plausible GP_PUT values */
		e->addr = e->size = 0;
		e->handle = 0;
	}
	if (rand() % 16 == 0)
		e->reserved[rand() % 3] = 1;
	e->status = GPUVM_PV_ST_NEW;
}

static void test_fuzz(void **state)
{
	struct pvg g;
	uint32_t handles[4];
	char why[256];

	(void)state;
	srand(12345);
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	pvg_bind_bar1(&g);
	for (unsigned i = 0; i < 4; i++)
		handles[i] = pvg_space(&g);
	for (unsigned round = 0; round < 300; round++) {
		uint32_t first = (uint32_t)rand() % 4200, count = (uint32_t)rand() % 64;

		if (rand() % 8 == 0)
			first = (uint32_t)rand();
		for (uint32_t i = 0; i < count && first + i < PVG_AREA_SIZE / GPUVM_PV_REQ_SIZE; i++)
			fuzz_entry(pvg_entry(&g, first + i), handles, 4);
		/* Half the rounds through RUN: the batch is what is marked new from FIRST. */
		if (rand() % 2) {
			pvg_wr(&g, GPUVM_PV_FIRST, first);
			pvg_rd(&g, GPUVM_PV_RUN);
		} else {
			pvg_ring(&g, first, count);
		}
		if (!pvg_isolated(&g, why, sizeof(why)))
			fail_msg("round %u: %s", round, why);
		/* Keep some spaces alive so that maps keep landing. */
		for (unsigned i = 0; i < 4; i++)
			if (!vgpu_pv_space_find(g.v, handles[i]))
				handles[i] = pvg_space(&g);
	}
	assert_isolated(&g);
	pvg_teardown(&g);
}

static void test_mode_switch_at_quiescence(void **state)
{
	struct pvg g;
	struct vgpu_info info;
	uint32_t h;
	struct gpuvm_pv_req d;

	(void)state;
	assert_int_equal(pvg_setup(&g, VGPU_MODE_PV, 64), 0);
	pvg_arm(&g, PVG_AREA, PVG_AREA_SIZE);
	h = pvg_space(&g);
	assert_int_equal(vgpu_set_mode(g.v, VGPU_MODE_FULL), 0);
	vgpu_get_info(g.v, &info);
	assert_int_equal(info.mode, VGPU_MODE_PV);           /* a live space: waits */
	assert_int_equal(info.pending_mode, VGPU_MODE_FULL);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_PENDING), GPUVM_PV_MODE_FULL);
	d = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_AS_DESTROY, .handle = h };
	assert_int_equal(pvg_one(&g, &d, NULL), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MODE), GPUVM_PV_MODE_FULL);
	/* Back to pv-naive: nothing is live, so at once. */
	assert_int_equal(vgpu_set_mode(g.v, VGPU_MODE_PV_NAIVE), 0);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MODE), GPUVM_PV_MODE_PV_NAIVE);
	/* A guest-requested switch drops what is live. */
	h = pvg_space(&g);
	assert_int_not_equal(h, 0);
	vgpu_set_mode(g.v, VGPU_MODE_PV);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MODE), GPUVM_PV_MODE_PV_NAIVE);
	pvg_wr(&g, GPUVM_PV_SWITCH, GPUVM_PV_SWITCH_NOW);
	assert_int_equal(pvg_rd(&g, GPUVM_PV_MODE), GPUVM_PV_MODE_PV);
	assert_null(vgpu_pv_space_find(g.v, h));
	vgpu_get_info(g.v, &info);
	assert_int_equal(info.mode_switches, 3);
	assert_isolated(&g);
	pvg_teardown(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_full_mode),
		cmocka_unit_test(test_map_translate_flush),
		cmocka_unit_test(test_entry_validation),
		cmocka_unit_test(test_batch_validation),
		cmocka_unit_test(test_bar_map),
		cmocka_unit_test(test_features_per_mode),
		cmocka_unit_test(test_fresh_register),
		cmocka_unit_test(test_reset_register),
		cmocka_unit_test(test_run_register),
		cmocka_unit_test(test_chan_run_and_submit),
		cmocka_unit_test(test_run_refreshes_remap),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_mode_switch_at_quiescence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
