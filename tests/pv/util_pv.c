/* In-process PV guest helpers (see util_pv.h). */
#include <stdio.h>
#include <string.h>

#include "util_pv.h"
#include "vgpu_internal.h"

int pvg_setup(struct pvg *g, enum vgpu_mode mode, unsigned vram_mib)
{
	struct gpusim_config cfg = { .vram_size = 512ull << 20 };
	struct vgpu_config c = { .vram_size = (uint64_t)vram_mib << 20, .channels = 8, .mode = mode };
	char err[256];

	memset(g, 0, sizeof(*g));
	g->sim = gpusim_create(&cfg);
	if (!g->sim)
		return -1;
	gpusim_audit_mode(g->sim, GPUSIM_AUDIT_COUNT);
	g->host = host_create(gpusim_hw(g->sim), NULL, err, sizeof(err));
	if (!g->host) {
		fprintf(stderr, "host_create: %s\n", err);
		gpusim_destroy(g->sim);
		return -1;
	}
	snprintf(c.name, sizeof(c.name), "pv%d", (int)mode);
	g->v = vgpu_create(g->host, &c, err, sizeof(err));
	if (!g->v) {
		fprintf(stderr, "vgpu_create: %s\n", err);
		host_destroy(g->host);
		return -1;
	}
	return 0;
}

void pvg_teardown(struct pvg *g)
{
	host_destroy(g->host);
}

static uint64_t pv_io(struct vgpu *v, uint32_t off, int dir, uint32_t val)
{
	struct vgpu_io io = { .bar = GPUVM_PV_BAR, .dir = (uint8_t)dir, .size = 4, .offset = off, .data = val };

	vgpu_mmio(v, &io);
	return io.data;
}

uint32_t pvg_rd(struct pvg *g, uint32_t off) { return (uint32_t)pv_io(g->v, off, VGPU_IO_READ, 0); }
void pvg_wr(struct pvg *g, uint32_t off, uint32_t val) { pv_io(g->v, off, VGPU_IO_WRITE, val); }

void pvg_arm(struct pvg *g, uint64_t area, uint32_t size)
{
	pvg_wr(g, GPUVM_PV_AREA_LO, (uint32_t)area);
	pvg_wr(g, GPUVM_PV_AREA_HI, (uint32_t)(area >> 32));
	pvg_wr(g, GPUVM_PV_AREA_SIZE, size);
	g->area = area;
}

struct gpuvm_pv_req *pvg_entry(struct pvg *g, unsigned i)
{
	return (struct gpuvm_pv_req *)(void *)(g->v->mem + g->area + (uint64_t)i * GPUVM_PV_REQ_SIZE);
}

int32_t pvg_ring(struct pvg *g, uint32_t first, uint32_t count)
{
	pvg_wr(g, GPUVM_PV_FIRST, first);
	pvg_wr(g, GPUVM_PV_DOORBELL, count);
	return (int32_t)pvg_rd(g, GPUVM_PV_STATUS);
}

int32_t pvg_one(struct pvg *g, const struct gpuvm_pv_req *r, uint32_t *handle)
{
	struct gpuvm_pv_req *e = pvg_entry(g, 0);
	int32_t st;

	*e = *r;
	e->status = GPUVM_PV_ST_NEW;
	st = pvg_ring(g, 0, 1);
	if (handle)
		*handle = e->handle;
	return st < 0 ? st : e->status;
}

uint32_t pvg_space(struct pvg *g)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_AS_CREATE, .size = 1ull << 40 };
	uint32_t h = 0;

	return pvg_one(g, &r, &h) ? 0 : h;
}

bool pvg_isolated(struct pvg *g, char *why, size_t len)
{
	return !host_check_isolation(g->host, why, len) && !vgpu_check_isolation(g->v, why, len);
}

static void gw32(struct pvg *g, uint64_t addr, uint32_t val)
{
	memcpy(g->v->mem + addr, &val, 4);
}

void pvg_bind_bar1(struct pvg *g)
{
	struct vgpu_io io = { .bar = 0, .dir = VGPU_IO_WRITE, .size = 4, .offset = NV_PBUS_BAR1_INST,
			      .data = NV_PBUS_BAR_VM | (uint32_t)(PVG_BAR_INST >> 12) };

	gw32(g, PVG_BAR_INST + NV_INST_PD_LO, (uint32_t)PVG_BAR_PD);
	gw32(g, PVG_BAR_INST + NV_INST_LIMIT_LO, (uint32_t)(256u << 20) - 1);
	gw32(g, PVG_BAR_PD + 4, nv_pde_word(PVG_BAR_SPT, NV_APER_VRAM));
	vgpu_mmio(g->v, &io);
}

uint64_t pvg_bar_read(struct pvg *g, unsigned bar, uint64_t off)
{
	struct vgpu_io io = { .bar = (uint8_t)bar, .dir = VGPU_IO_READ, .size = 4, .offset = off };

	vgpu_mmio(g->v, &io);
	return io.data;
}
