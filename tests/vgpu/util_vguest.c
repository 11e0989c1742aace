/* Minimal guest driver over vgpu_mmio() (see util_vguest.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nvc0/classes.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_vguest.h"

int vg_setup(struct vguest *g, const char *name, unsigned vram_mib)
{
	struct gpusim_config cfg = { .vram_size = 512ull << 20 };
	char err[256];

	memset(g, 0, sizeof(*g));
	g->sim = gpusim_create(&cfg);
	if (!g->sim)
		return -1;
	g->host = host_create(gpusim_hw(g->sim), NULL, err, sizeof(err));
	if (!g->host) {
		fprintf(stderr, "host_create: %s\n", err);
		gpusim_destroy(g->sim);
		return -1;
	}
	return vg_add(g, g, name, vram_mib);
}

int vg_add(struct vguest *g, struct vguest *other, const char *name, unsigned vram_mib)
{
	struct vgpu_config c = { .vram_size = (uint64_t)vram_mib << 20, .channels = 8 };
	char err[256];

	if (other != g) {
		memset(other, 0, sizeof(*other));
		other->sim = g->sim;
		other->host = g->host;
	}
	snprintf(c.name, sizeof(c.name), "%s", name);
	other->v = vgpu_create(g->host, &c, err, sizeof(err));
	if (!other->v)
		fprintf(stderr, "vgpu_create: %s\n", err);
	return other->v ? 0 : -1;
}

void vg_teardown(struct vguest *g)
{
	host_destroy(g->host);  /* destroys the vGPUs and the gpusim */
}

static uint64_t vg_io(struct vgpu *v, unsigned bar, uint64_t off, unsigned size, int dir, uint64_t val)
{
	struct vgpu_io io = { .bar = (uint8_t)bar, .dir = (uint8_t)dir, .size = (uint8_t)size,
			      .offset = off, .data = val };

	vgpu_mmio(v, &io);
	return io.data;
}

uint32_t vg_rd32(struct vgpu *v, uint32_t reg) { return (uint32_t)vg_io(v, 0, reg, 4, VGPU_IO_READ, 0); }
void vg_wr32(struct vgpu *v, uint32_t reg, uint32_t val) { vg_io(v, 0, reg, 4, VGPU_IO_WRITE, val); }
uint64_t vg_bar_rd(struct vgpu *v, unsigned bar, uint64_t off, unsigned size) { return vg_io(v, bar, off, size, VGPU_IO_READ, 0); }
void vg_bar_wr(struct vgpu *v, unsigned bar, uint64_t off, uint64_t val, unsigned size) { vg_io(v, bar, off, size, VGPU_IO_WRITE, val); }

void vg_pwr32(struct vgpu *v, uint64_t g, uint32_t val)
{
	vg_wr32(v, NV_PBUS_PRAMIN_BASE, (uint32_t)(g >> 16));
	vg_wr32(v, NV_PRAMIN_WINDOW + (uint32_t)(g & 0xffff), val);
}

uint32_t vg_prd32(struct vgpu *v, uint64_t g)
{
	vg_wr32(v, NV_PBUS_PRAMIN_BASE, (uint32_t)(g >> 16));
	return vg_rd32(v, NV_PRAMIN_WINDOW + (uint32_t)(g & 0xffff));
}

void vg_map_raw(struct vgpu *v, uint64_t va, uint64_t pte)
{
	uint64_t at = VG_SPT + ((va >> NV_SPAGE_SHIFT) & (NV_SPT_ENTRIES - 1)) * 8;

	vg_pwr32(v, at, (uint32_t)pte);
	vg_pwr32(v, at + 4, (uint32_t)(pte >> 32));
}

void vg_map(struct vgpu *v, uint64_t va, uint64_t gphys, uint64_t len)
{
	for (uint64_t o = 0; o < len; o += NV_SPAGE_SIZE)
		vg_map_raw(v, va + o, nv_pte_vram(gphys + o, 0));
}

void vg_flush(struct vgpu *v, uint64_t pd)
{
	vg_wr32(v, NV_MMU_FLUSH_PD, (uint32_t)(pd >> 8));
	vg_wr32(v, NV_MMU_FLUSH_TRIGGER, NV_MMU_FLUSH_GO | NV_MMU_FLUSH_ALL_PAGES);
}

void vg_init_vm(struct vgpu *v)
{
	vg_pwr32(v, VG_PD + 4, nv_pde_word(VG_SPT, NV_APER_VRAM));
	vg_map(v, 0, 0, 4ull << 20);
	vg_pwr32(v, VG_BAR_INST + NV_INST_PD_LO, (uint32_t)VG_PD);
	vg_pwr32(v, VG_BAR_INST + NV_INST_LIMIT_LO, 0xffffffff);
	vg_pwr32(v, VG_BAR_INST + NV_INST_LIMIT_HI, 0xff);
	vg_wr32(v, NV_PBUS_BAR1_INST, NV_PBUS_BAR_VM | (uint32_t)(VG_BAR_INST >> 12));
	vg_flush(v, VG_PD);
}

void vg_chan_init(struct vgpu *v, unsigned c, unsigned nchans_on_runlist)
{
	uint64_t inst = VG_INST(c);

	vg_pwr32(v, inst + NV_RAMFC_USERD_LO, (uint32_t)VG_USERD(c));
	vg_pwr32(v, inst + NV_RAMFC_GP_BASE_LO, (uint32_t)(VG_RING_VA + c * 0x1000));
	vg_pwr32(v, inst + NV_RAMFC_GP_BASE_HI, 9u << 16);
	vg_pwr32(v, inst + NV_INST_PD_LO, (uint32_t)VG_PD);
	vg_pwr32(v, inst + NV_INST_LIMIT_LO, 0xffffffff);
	vg_pwr32(v, inst + NV_INST_LIMIT_HI, 0xff);
	vg_wr32(v, NV_PFIFO_CHAN_INST(c), NV_CHAN_INST_VALID | (uint32_t)(inst >> 12));
	vg_wr32(v, NV_PFIFO_CHAN_CTRL(c), NV_CHAN_CTRL_RUNNABLE);
	for (unsigned i = 0; i < nchans_on_runlist; i++) {
		vg_pwr32(v, VG_RUNLIST + i * 8, i);
		vg_pwr32(v, VG_RUNLIST + i * 8 + 4, NV_RUNLIST_ENTRY_WORD1);
	}
	vg_wr32(v, NV_PFIFO_RUNLIST_BASE, (uint32_t)(VG_RUNLIST >> 12));
	vg_wr32(v, NV_PFIFO_RUNLIST_SUBMIT, 0x01f00000u | nchans_on_runlist);
}

void vg_release(struct vguest *g, unsigned c, uint32_t seq)
{
	struct vgpu *v = g->v;
	uint64_t pb = VG_PB_VA + c * 0x1000 + (uint64_t)(g->put[c] % 64) * 32;
	uint64_t sem = VG_SEM_VA + c * 16;
	uint32_t words[] = {
		nv_pb_hdr(NV_PB_OP_INC, 0, NV906F_SEMAPHORE_HI, 4), (uint32_t)(sem >> 32), (uint32_t)sem,
		seq, NV906F_SEM_RELEASE | NV906F_SEM_SHORT,
	};
	uint32_t e[2];
	uint64_t ring = VG_RING_VA + c * 0x1000 + (uint64_t)g->put[c] * 8;

	for (unsigned i = 0; i < 5; i++)
		vg_pwr32(v, pb + i * 4, words[i]);
	nv_gp_entry(e, pb, 5);
	vg_pwr32(v, ring, e[0]);
	vg_pwr32(v, ring + 4, e[1]);
	g->put[c] = (g->put[c] + 1) % 512;
	/* The doorbell: GP_PUT in USERD, reached through BAR1 (VA == guest physical). */
	vg_bar_wr(v, 1, VG_USERD(c) + NV_USERD_GP_PUT, g->put[c], 4);
}

/* Between polls, give the GPU and scheduler threads the CPU (this matters
 * on a loaded 2-core machine and under valgrind, which runs one thread at a
 * time). */
static bool within_5s(const struct timespec *t0)
{
	struct timespec t, nap = { 0, 50000 };

	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec < 20;
}

bool vg_wait(struct vgpu *v, unsigned c, uint32_t seq)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (vg_prd32(v, VG_SEM_VA + c * 16) == seq)
			return true;
	} while (within_5s(&t0));
	return false;
}

bool vg_poll_reg(struct vgpu *v, uint32_t reg, uint32_t mask, uint32_t want)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if ((vg_rd32(v, reg) & mask) == want)
			return true;
	} while (within_5s(&t0));
	return false;
}

bool vg_poll_bar(struct vgpu *v, unsigned bar, uint64_t off, uint32_t want)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if ((uint32_t)vg_bar_rd(v, bar, off, 4) == want)
			return true;
	} while (within_5s(&t0));
	return false;
}
