/*
 * Test-side NVC0 driver: see util.h.
 */
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* ---- Device -------------------------------------------------------------- */

struct tdev *tdev_new_cfg(const struct gpusim_config *cfg)
{
	struct tdev *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->sim = gpusim_create(cfg);
	if (!t->sim) {
		fprintf(stderr, "gpusim_create: %s\n", strerror(errno));
		free(t);
		fail_msg("gpusim_create failed");
		return NULL;
	}
	t->hw = gpusim_hw(t->sim);
	assert_non_null(t->hw);
	t->vram_size = t->hw->ops->vram_size(t->hw);
	t->next_phys = T_ALLOC_START;
	t->pramin = ~0u;
	return t;
}

struct tdev *tdev_new(unsigned vram_mib)
{
	struct gpusim_config cfg = {0};
	cfg.vram_size = (uint64_t)(vram_mib ? vram_mib : T_VRAM_MIB) << 20;
	return tdev_new_cfg(&cfg);
}

void tdev_free(struct tdev *t)
{
	if (!t)
		return;
	gpusim_destroy(t->sim);
	tvm_free(t->bar1_vm);
	free(t);
}

int tdev_setup(void **state)
{
	*state = tdev_new(0);
	return *state ? 0 : -1;
}

int tdev_teardown(void **state)
{
	tdev_free(*state);
	*state = NULL;
	return 0;
}

uint32_t rd32(struct tdev *t, uint32_t reg)
{
	return gpu_rd32(t->hw, reg);
}

void wr32(struct tdev *t, uint32_t reg, uint32_t val)
{
	gpu_wr32(t->hw, reg, val);
}

struct gpusim_stats tdev_stats(struct tdev *t)
{
	struct gpusim_stats s;
	memset(&s, 0, sizeof(s));
	gpusim_get_stats(t->sim, &s);
	return s;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Back off politely while polling: spin a little, then yield. */
void poll_pause(unsigned iter)
{
	if (iter < 64)
		return;
	if (iter < 1024) {
		sched_yield();
		return;
	}
	struct timespec ts = {0, 20000};
	nanosleep(&ts, NULL);
}

bool wait_reg(struct tdev *t, uint32_t reg, uint32_t mask, uint32_t val, unsigned timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (unsigned i = 0;; i++) {
		if ((rd32(t, reg) & mask) == val)
			return true;
		if (now_ns() > end)
			return false;
		poll_pause(i);
	}
}

/* ---- VRAM through PRAMIN --------------------------------------------------- */

uint64_t vram_alloc(struct tdev *t, uint64_t size, uint64_t align)
{
	if (align < NV_SPAGE_SIZE)
		align = NV_SPAGE_SIZE;
	size = (size + NV_SPAGE_SIZE - 1) & ~(uint64_t)(NV_SPAGE_SIZE - 1);
	uint64_t p = (t->next_phys + align - 1) & ~(align - 1);
	if (p + size > t->vram_size)
		fail_msg("test VRAM allocator exhausted (%llu bytes wanted)", (unsigned long long)size);
	t->next_phys = p + size;
	if (t->zero_allocs)
		vram_fill32(t, p, 0, size);
	return p;
}

void pramin_forget(struct tdev *t)
{
	t->pramin = ~0u;
}

/* Point the window at phys (1 MiB aligned, as nouveau does); return the offset. */
static uint32_t pramin_seek(struct tdev *t, uint64_t phys)
{
	uint32_t base = (uint32_t)(phys >> 20) << 4;
	if (t->pramin != base) {
		wr32(t, NV_PBUS_PRAMIN_BASE, base);
		t->pramin = base;
	}
	return NV_PRAMIN_WINDOW + (uint32_t)(phys - ((uint64_t)base << NV_PBUS_PRAMIN_SHIFT));
}

uint32_t vram_rd32(struct tdev *t, uint64_t phys)
{
	assert_true((phys & 3) == 0);
	return rd32(t, pramin_seek(t, phys));
}

void vram_wr32(struct tdev *t, uint64_t phys, uint32_t val)
{
	assert_true((phys & 3) == 0);
	wr32(t, pramin_seek(t, phys), val);
}

uint64_t vram_rd64(struct tdev *t, uint64_t phys)
{
	uint64_t lo = vram_rd32(t, phys);
	return lo | (uint64_t)vram_rd32(t, phys + 4) << 32;
}

void vram_wr64(struct tdev *t, uint64_t phys, uint64_t val)
{
	vram_wr32(t, phys, (uint32_t)val);
	vram_wr32(t, phys + 4, (uint32_t)(val >> 32));
}

void vram_read(struct tdev *t, uint64_t phys, void *buf, size_t len)
{
	uint8_t *b = buf;
	while (len) {
		uint64_t w = phys & ~3ull;
		unsigned off = (unsigned)(phys & 3);
		unsigned n = 4 - off < len ? 4 - off : (unsigned)len;
		uint32_t v = vram_rd32(t, w);
		memcpy(b, (uint8_t *)&v + off, n);
		b += n;
		phys += n;
		len -= n;
	}
}

void vram_write(struct tdev *t, uint64_t phys, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	while (len) {
		uint64_t w = phys & ~3ull;
		unsigned off = (unsigned)(phys & 3);
		unsigned n = 4 - off < len ? 4 - off : (unsigned)len;
		uint32_t v = 0;
		if (n != 4)
			v = vram_rd32(t, w);
		memcpy((uint8_t *)&v + off, b, n);
		vram_wr32(t, w, v);
		b += n;
		phys += n;
		len -= n;
	}
}

void vram_fill32(struct tdev *t, uint64_t phys, uint32_t val, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i += 4)
		vram_wr32(t, phys + i, val);
}

uint8_t *vram_map(struct tdev *t)
{
	uint64_t size = t->vram_size;
	uint8_t *base = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (uint64_t a = 0; a < size;) {
		uint64_t fd_off = 0, len = 0;
		int fd = t->hw->ops->vram_fd(t->hw, a, &fd_off, &len);
		if (fd < 0 || len == 0 || len > size - a ||
		    mmap(base + a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)fd_off) == MAP_FAILED) {
			munmap(base, size);
			return NULL;
		}
		a += len;
	}
	return base;
}

void vram_unmap(uint8_t *p, uint64_t size)
{
	if (p)
		munmap(p, size);
}

bool wait_vram32(struct tdev *t, uint64_t phys, uint32_t val, unsigned timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (unsigned i = 0;; i++) {
		if (vram_rd32(t, phys) == val)
			return true;
		if (now_ns() > end)
			return false;
		poll_pause(i);
	}
}

/* ---- GPU virtual memory --------------------------------------------------- */

struct tvm *tvm_new(struct tdev *t)
{
	struct tvm *vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	vm->pd = vram_alloc(t, NV_PD_SIZE, NV_SPAGE_SIZE);
	vm->next_va = T_VA_BASE;
	return vm;
}

void tvm_free(struct tvm *vm)
{
	free(vm);
}

static void tvm_write_pde(struct tdev *t, struct tvm *vm, unsigned i)
{
	uint32_t lo = vm->lpt[i] ? nv_pde_word(vm->lpt[i], NV_APER_VRAM) : 0;
	uint32_t hi = vm->spt[i] ? nv_pde_word(vm->spt[i], NV_APER_VRAM) : 0;
	vram_wr32(t, vm->pd + i * 8ull, lo);
	vram_wr32(t, vm->pd + i * 8ull + 4, hi);
}

static unsigned pde_index(uint64_t va)
{
	assert_true(va < NV_VA_LIMIT);
	return (unsigned)(va >> NV_PDE_SHIFT);
}

void tvm_set_spte(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t pte)
{
	unsigned i = pde_index(va);
	if (!vm->spt[i]) {
		vm->spt[i] = vram_alloc(t, NV_SPT_SIZE, NV_SPAGE_SIZE);
		tvm_write_pde(t, vm, i);
	}
	uint64_t idx = (va >> NV_SPAGE_SHIFT) & (NV_SPT_ENTRIES - 1);
	vram_wr64(t, vm->spt[i] + idx * 8, pte);
}

void tvm_set_lpte(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t pte)
{
	unsigned i = pde_index(va);
	if (!vm->lpt[i]) {
		vm->lpt[i] = vram_alloc(t, NV_LPT_SIZE, NV_SPAGE_SIZE);
		tvm_write_pde(t, vm, i);
	}
	uint64_t idx = (va >> NV_LPAGE_SHIFT) & (NV_LPT_ENTRIES - 1);
	vram_wr64(t, vm->lpt[i] + idx * 8, pte);
}

void tvm_map(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t phys, uint64_t size, bool ro)
{
	assert_true(((va | phys) & (NV_SPAGE_SIZE - 1)) == 0);
	for (uint64_t o = 0; o < size; o += NV_SPAGE_SIZE)
		tvm_set_spte(t, vm, va + o, nv_pte_vram(phys + o, ro));
}

void tvm_map_large(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t phys, uint64_t size, bool ro)
{
	assert_true(((va | phys) & (NV_LPAGE_SIZE - 1)) == 0);
	for (uint64_t o = 0; o < size; o += NV_LPAGE_SIZE)
		tvm_set_lpte(t, vm, va + o, nv_pte_vram(phys + o, ro));
}

void tvm_unmap(struct tdev *t, struct tvm *vm, uint64_t va, uint64_t size)
{
	for (uint64_t o = 0; o < size; o += NV_SPAGE_SIZE)
		tvm_set_spte(t, vm, va + o, 0);
}

void tvm_clear_pde(struct tdev *t, struct tvm *vm, uint64_t va)
{
	unsigned i = pde_index(va);
	vram_wr64(t, vm->pd + i * 8ull, 0);
}

struct tbuf tvm_alloc(struct tdev *t, struct tvm *vm, uint64_t size)
{
	struct tbuf b;
	b.size = (size + NV_SPAGE_SIZE - 1) & ~(uint64_t)(NV_SPAGE_SIZE - 1);
	b.phys = vram_alloc(t, b.size, NV_SPAGE_SIZE);
	b.va = vm->next_va;
	/* Leave an unmapped guard page after every buffer. */
	vm->next_va += b.size + NV_SPAGE_SIZE;
	tvm_map(t, vm, b.va, b.phys, b.size, false);
	return b;
}

void tvm_write_inst(struct tdev *t, struct tvm *vm, uint64_t inst, uint64_t limit)
{
	vram_wr32(t, inst + NV_INST_PD_LO, (uint32_t)vm->pd);           /* target 0 = VRAM */
	vram_wr32(t, inst + NV_INST_PD_HI, (uint32_t)(vm->pd >> 32));
	vram_wr32(t, inst + NV_INST_LIMIT_LO, (uint32_t)limit);
	vram_wr32(t, inst + NV_INST_LIMIT_HI, (uint32_t)(limit >> 32));
}

bool tvm_flush(struct tdev *t, struct tvm *vm)
{
	/* Wait for room in the flush queue (any bit of the space field). */
	uint64_t end = now_ns() + (uint64_t)T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; !(rd32(t, NV_MMU_CTRL) & NV_MMU_CTRL_SPACE); i++) {
		if (now_ns() > end)
			return false;
		poll_pause(i);
	}
	wr32(t, NV_MMU_FLUSH_PD, (uint32_t)(vm->pd >> 8) | 0 /* VRAM */);
	wr32(t, NV_MMU_FLUSH_TRIGGER, NV_MMU_FLUSH_GO | NV_MMU_FLUSH_ALL_PAGES);
	return wait_reg(t, NV_MMU_CTRL, NV_MMU_CTRL_FLUSH_DONE, NV_MMU_CTRL_FLUSH_DONE, T_TIMEOUT_MS);
}

/* ---- BARs ----------------------------------------------------------------- */

uint64_t tdev_bind_bar(struct tdev *t, enum gpu_bar bar, struct tvm *vm, uint64_t limit)
{
	uint64_t inst = vram_alloc(t, NV_INST_SIZE, NV_INST_SIZE);
	tvm_write_inst(t, vm, inst, limit);
	uint32_t reg = bar == GPU_BAR1 ? NV_PBUS_BAR1_INST : NV_PBUS_BAR3_INST;
	wr32(t, reg, NV_PBUS_BAR_VM | (uint32_t)(inst >> 12));
	return inst;
}

struct tvm *tdev_bar1(struct tdev *t)
{
	if (!t->bar1_vm) {
		t->bar1_vm = tvm_new(t);
		tdev_bind_bar(t, GPU_BAR1, t->bar1_vm, GPUSIM_DEFAULT_BAR1 - 1);
		t->bar1_next = 0;
	}
	return t->bar1_vm;
}

uint64_t tdev_bar1_map(struct tdev *t, uint64_t phys, uint64_t size)
{
	struct tvm *vm = tdev_bar1(t);
	size = (size + NV_SPAGE_SIZE - 1) & ~(uint64_t)(NV_SPAGE_SIZE - 1);
	uint64_t off = t->bar1_next;
	t->bar1_next += size;
	tvm_map(t, vm, off, phys, size, false);
	assert_true(tvm_flush(t, vm));
	return off;
}

/* ---- Fault records ----------------------------------------------------------- */

struct tfault tdev_fault(struct tdev *t, unsigned unit)
{
	struct tfault f;
	f.inst = rd32(t, NV_PFIFO_FAULT(unit) + NV_FAULT_INST);
	f.va_lo = rd32(t, NV_PFIFO_FAULT(unit) + NV_FAULT_VA_LO);
	f.va_hi = rd32(t, NV_PFIFO_FAULT(unit) + NV_FAULT_VA_HI);
	f.flags = rd32(t, NV_PFIFO_FAULT(unit) + NV_FAULT_FLAGS);
	return f;
}

void tdev_fault_clear(struct tdev *t, unsigned unit)
{
	wr32(t, NV_PFIFO_FAULT_UNITS, 1u << unit);
}

uint64_t tfault_va(struct tfault f)
{
	return (uint64_t)f.va_hi << 32 | f.va_lo;
}

/* ---- Channels ----------------------------------------------------------------- */

static void ramfc_init(struct tchan *ch)
{
	struct tdev *t = ch->t;
	static const struct { uint32_t off, val; } fixed[] = {
		{ 0x10, 0x0000face }, { 0x30, 0xfffff902 }, { 0x54, 0x00000002 },
		{ 0x84, 0x20400000 }, { 0x94, 0x30000001 }, { 0x9c, 0x00000100 },
		{ 0xa4, 0x1f1f1f1f }, { 0xa8, 0x1f1f1f1f }, { 0xac, 0x0000001f },
		{ 0xb8, 0xf8000000 }, { 0xf8, 0x10003080 }, { 0xfc, 0x10000010 },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		vram_wr32(t, ch->inst + fixed[i].off, fixed[i].val);
	vram_wr32(t, ch->inst + NV_RAMFC_USERD_LO, (uint32_t)ch->userd);
	vram_wr32(t, ch->inst + NV_RAMFC_USERD_HI, (uint32_t)(ch->userd >> 32));
	vram_wr32(t, ch->inst + NV_RAMFC_GP_BASE_LO, (uint32_t)ch->gp.va);
	vram_wr32(t, ch->inst + NV_RAMFC_GP_BASE_HI,
		  ((uint32_t)(ch->gp.va >> 32) & 0xff) | ch->gp_order << 16);
	tvm_write_inst(t, ch->vm, ch->inst, NV_VA_LIMIT - 1);
}

struct tchan *tchan_new_opt(struct tdev *t, unsigned chid, struct tvm *vm, unsigned gp_order)
{
	assert_true(chid < NV_PFIFO_CHANNELS);
	struct tchan *ch = calloc(1, sizeof(*ch));
	assert_non_null(ch);
	ch->t = t;
	ch->chid = chid;
	ch->own_vm = vm == NULL;
	ch->vm = vm ? vm : tvm_new(t);
	ch->gp_order = gp_order;
	ch->inst = vram_alloc(t, NV_INST_SIZE, NV_INST_SIZE);
	ch->userd = vram_alloc(t, NV_USERD_SIZE, NV_USERD_SIZE);
	ch->gp = tvm_alloc(t, ch->vm, (uint64_t)NV_GPFIFO_ENTRY_SIZE << gp_order);
	ch->pb = tvm_alloc(t, ch->vm, T_PB_SIZE);
	ch->fence = tvm_alloc(t, ch->vm, NV_SPAGE_SIZE);
	if (t->zero_allocs)
		vram_fill32(t, ch->userd, 0, NV_USERD_SIZE);
	vram_wr32(t, ch->userd + NV_USERD_GP_GET, 0);
	vram_wr32(t, ch->userd + NV_USERD_GP_PUT, 0);
	ramfc_init(ch);
	assert_true(tvm_flush(t, ch->vm));
	tchan_bind(ch);
	wr32(t, NV_PFIFO_CHAN_CTRL(chid), 0x001f0000 | NV_CHAN_CTRL_RUNNABLE);
	return ch;
}

struct tchan *tchan_new(struct tdev *t, unsigned chid)
{
	return tchan_new_opt(t, chid, NULL, T_GP_ORDER);
}

struct tchan *tchan_start(struct tdev *t, unsigned chid)
{
	struct tchan *ch = tchan_new(t, chid);
	assert_true(tdev_runlist_set(t, chid, true));
	return ch;
}

void tchan_free(struct tchan *ch)
{
	if (!ch)
		return;
	if (ch->own_vm)
		tvm_free(ch->vm);
	free(ch);
}

void tchan_bind(struct tchan *ch)
{
	wr32(ch->t, NV_PFIFO_CHAN_INST(ch->chid), NV_CHAN_INST_VALID | NV_CHAN_INST_POLL |
						     (uint32_t)(ch->inst >> 12));
}

void tchan_use_bar1(struct tchan *ch)
{
	struct tdev *t = ch->t;
	ch->userd_bar1 = tdev_bar1_map(t, ch->userd, NV_USERD_SIZE);
	ch->put_via_bar1 = true;
}

struct tbuf tchan_buf(struct tchan *ch, uint64_t size)
{
	struct tbuf b = tvm_alloc(ch->t, ch->vm, size);
	assert_true(tvm_flush(ch->t, ch->vm));
	return b;
}

bool tdev_runlist(struct tdev *t, const unsigned *chids, unsigned n)
{
	if (!t->runlist[0]) {
		t->runlist[0] = vram_alloc(t, NV_PFIFO_CHANNELS * NV_RUNLIST_ENTRY_SIZE, NV_SPAGE_SIZE);
		t->runlist[1] = vram_alloc(t, NV_PFIFO_CHANNELS * NV_RUNLIST_ENTRY_SIZE, NV_SPAGE_SIZE);
	}
	uint64_t rl = t->runlist[t->runlist_cur];
	t->runlist_cur ^= 1;
	for (unsigned i = 0; i < n; i++) {
		vram_wr32(t, rl + i * 8ull, chids[i]);
		vram_wr32(t, rl + i * 8ull + 4, NV_RUNLIST_ENTRY_WORD1);
	}
	wr32(t, NV_PFIFO_RUNLIST_BASE, (uint32_t)(rl >> 12));
	wr32(t, NV_PFIFO_RUNLIST_SUBMIT, 0x01f00000 | n);
	return wait_reg(t, NV_PFIFO_RUNLIST_STATUS, NV_PFIFO_RUNLIST_PENDING, 0, T_TIMEOUT_MS);
}

bool tdev_runlist_set(struct tdev *t, unsigned chid, bool on)
{
	unsigned ids[NV_PFIFO_CHANNELS], n = 0;
	t->on_runlist[chid] = on;
	for (unsigned i = 0; i < NV_PFIFO_CHANNELS; i++)
		if (t->on_runlist[i])
			ids[n++] = i;
	return tdev_runlist(t, ids, n);
}

/* ---- Pushbuffer and GPFIFO ------------------------------------------------------ */

void pb_word(struct tchan *ch, uint32_t w)
{
	if (ch->pb_pos + 4 > ch->pb.size)
		fail_msg("test pushbuffer full");
	vram_wr32(ch->t, ch->pb.phys + ch->pb_pos, w);
	ch->pb_pos += 4;
}

void pb_hdr(struct tchan *ch, uint32_t op, unsigned subc, uint32_t mthd, uint32_t count)
{
	pb_word(ch, nv_pb_hdr(op, subc, mthd, count));
}

void pb_mthd(struct tchan *ch, unsigned subc, uint32_t mthd, uint32_t data)
{
	pb_hdr(ch, NV_PB_OP_INC, subc, mthd, 1);
	pb_word(ch, data);
}

void pb_mthds(struct tchan *ch, unsigned subc, uint32_t mthd, const uint32_t *data, uint32_t n)
{
	pb_hdr(ch, NV_PB_OP_INC, subc, mthd, n);
	for (uint32_t i = 0; i < n; i++)
		pb_word(ch, data[i]);
}

void pb_immd(struct tchan *ch, unsigned subc, uint32_t mthd, uint32_t data)
{
	assert_true(data < (1u << 13));
	pb_hdr(ch, NV_PB_OP_IMMD, subc, mthd, data);
}

void pb_bind(struct tchan *ch, unsigned subc, uint32_t cls)
{
	pb_mthd(ch, subc, NV906F_SET_OBJECT, cls);
}

void pb_sem_addr(struct tchan *ch, uint64_t va)
{
	uint32_t d[2] = { (uint32_t)(va >> 32) & 0xff, (uint32_t)va };
	pb_mthds(ch, 0, NV906F_SEMAPHORE_HI, d, 2);
}

void pb_sem_release(struct tchan *ch, uint64_t va, uint32_t seq, bool is_short)
{
	uint32_t d[4] = { (uint32_t)(va >> 32) & 0xff, (uint32_t)va, seq,
			  NV906F_SEM_RELEASE | (is_short ? NV906F_SEM_SHORT : 0) };
	pb_mthds(ch, 0, NV906F_SEMAPHORE_HI, d, 4);
}

void pb_sem_acquire(struct tchan *ch, uint64_t va, uint32_t seq, uint32_t mode)
{
	uint32_t d[4] = { (uint32_t)(va >> 32) & 0xff, (uint32_t)va, seq, mode };
	pb_mthds(ch, 0, NV906F_SEMAPHORE_HI, d, 4);
}

void tchan_set_put(struct tchan *ch, uint32_t put)
{
	if (ch->put_via_bar1) {
		int rc = gpu_bar_write(ch->t->hw, GPU_BAR1, ch->userd_bar1 + NV_USERD_GP_PUT, &put, 4);
		assert_int_equal(rc, 0);
	} else {
		vram_wr32(ch->t, ch->userd + NV_USERD_GP_PUT, put);
	}
}

uint32_t tchan_gp_get(struct tchan *ch)
{
	return vram_rd32(ch->t, ch->userd + NV_USERD_GP_GET);
}

uint32_t tchan_ctrl(struct tchan *ch)
{
	return rd32(ch->t, NV_PFIFO_CHAN_CTRL(ch->chid));
}

void tchan_gp_raw(struct tchan *ch, uint32_t e0, uint32_t e1)
{
	struct tdev *t = ch->t;
	uint32_t n = 1u << ch->gp_order;
	uint32_t next = (ch->gp_put + 1) & (n - 1);
	/* Ring full: wait for the GPU to consume an entry. */
	uint64_t end = now_ns() + (uint64_t)T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; tchan_gp_get(ch) == next; i++) {
		if (now_ns() > end)
			fail_msg("ch%u: GPFIFO ring full, GP_GET stuck at %u", ch->chid, next);
		poll_pause(i);
	}
	uint64_t e = ch->gp.phys + (uint64_t)ch->gp_put * NV_GPFIFO_ENTRY_SIZE;
	vram_wr32(t, e, e0);
	vram_wr32(t, e + 4, e1);
	ch->gp_put = next;
	tchan_set_put(ch, next);
}

void tchan_submit(struct tchan *ch)
{
	uint32_t words = (ch->pb_pos - ch->pb_start) / 4;
	if (!words)
		return;
	uint32_t e[2];
	nv_gp_entry(e, ch->pb.va + ch->pb_start, words);
	ch->pb_start = ch->pb_pos;
	tchan_gp_raw(ch, e[0], e[1]);
}

bool tchan_sync(struct tchan *ch)
{
	uint32_t seq = ++ch->fence_seq;
	pb_sem_release(ch, ch->fence.va, seq, true);
	tchan_submit(ch);
	return wait_vram32(ch->t, ch->fence.phys, seq, T_TIMEOUT_MS);
}

bool tchan_wait_faulted(struct tchan *ch)
{
	return wait_reg(ch->t, NV_PFIFO_CHAN_CTRL(ch->chid), NV_CHAN_CTRL_FAULTED,
			NV_CHAN_CTRL_FAULTED, T_TIMEOUT_MS);
}

void tchan_recover(struct tchan *ch)
{
	vram_wr32(ch->t, ch->userd + NV_USERD_GP_GET, ch->gp_put);
	tchan_bind(ch);
	/* The fence may have been left anywhere; restart its sequence cleanly. */
	vram_wr32(ch->t, ch->fence.phys, ch->fence_seq);
}
