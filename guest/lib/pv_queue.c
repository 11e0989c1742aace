/*
 * The guest side of the PV interface (include/gpuvm_pv.h): finding it,
 * the request area in VRAM, and the queue of requests sent at a doorbell.
 *
 * In pv-naive every request is sent on its own (the daemon allows one per
 * doorbell).  In pv, page-table requests wait in the queue until something
 * needs them done: a submission (before GP_PUT, or with the SUBMIT request),
 * a request that returns a result, or a full queue.  Where the vGPU has the
 * RUN register, a batch costs one trapped read instead of a doorbell write
 * and a STATUS read.  Everything here runs under the device lock.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvm_pv.h"
#include "nvc0_driver.h"

#define PV_AREA_BYTES  (GPUVM_PV_BATCH_MAX * GPUVM_PV_REQ_SIZE)

static uint32_t pv_rd(struct gpuvm_device *dev, uint32_t off)
{
	return nvc0_rd32(dev, GPUVM_PV_BAR0_BASE + off);
}

static void pv_wr(struct gpuvm_device *dev, uint32_t off, uint32_t val)
{
	nvc0_wr32(dev, GPUVM_PV_BAR0_BASE + off, val);
}

/*
 * Only a vGPU has the PV page; a native GPU is never asked (it has no such
 * BAR).  This runs as the device's first context is made, when nothing of
 * this guest is live on the vGPU: a mode switch still waiting (for state
 * the daemon kept from before) is applied now, as SWITCH is meant for.
 */
static void pv_probe(struct gpuvm_device *dev)
{
	if (dev->pv.probed)
		return;
	dev->pv.probed = true;
	dev->pv.present = strcmp(dev->tp->kind, "native") != 0 &&
			  pv_rd(dev, GPUVM_PV_ID) == GPUVM_PV_MAGIC &&
			  pv_rd(dev, GPUVM_PV_VER) == GPUVM_PV_VERSION;
	if (dev->pv.present && !dev->fifo.nchan && pv_rd(dev, GPUVM_PV_PENDING) != pv_rd(dev, GPUVM_PV_MODE))
		pv_wr(dev, GPUVM_PV_SWITCH, GPUVM_PV_SWITCH_NOW);
}

/*
 * Bring-up of a vGPU whose partition an earlier user of this guest wrote:
 * ask for a reset (which scrubs it) rather than zero-fill every table over
 * trapped writes.  The daemon refuses while any channel is bound, so
 * another process's GPU work is never cut short; and a caller that wrote
 * the GPU itself through gpuvm_raw_* keeps what it wrote.
 */
static bool pv_reset_for_bring_up(struct gpuvm_device *dev, uint32_t features)
{
	if (!(features & GPUVM_PV_F_RESET) || dev->raw_written)
		return false;
	pv_wr(dev, GPUVM_PV_RESET, GPUVM_PV_RESET_NOW);
	return pv_rd(dev, GPUVM_PV_STATUS) == 0;
}

bool nvc0_pv_vram_fresh(struct gpuvm_device *dev)
{
	uint32_t features;

	pv_probe(dev);
	if (!dev->pv.present)
		return false;
	features = pv_rd(dev, GPUVM_PV_FEATURES);
	if (!(features & GPUVM_PV_F_FRESH))
		return false;
	if (pv_rd(dev, GPUVM_PV_FRESH) == 1)
		return true;
	return pv_reset_for_bring_up(dev, features) && pv_rd(dev, GPUVM_PV_FRESH) == 1;
}

/* The request area is written without the pending-BAR-map check of nvc0_bar1_write. */
static int pv_area_write(struct gpuvm_device *dev, const void *buf, size_t len)
{
	return dev->tp->ops->bar_write(dev->tp, GPUVM_BAR1, dev->pv.area.bar1, buf, len) ? -EIO : 0;
}

static int pv_area_init(struct gpuvm_device *dev)
{
	int err;

	if (dev->pv.area_ready)
		return GPUVM_OK;
	dev->pv.queue = calloc(GPUVM_PV_BATCH_MAX + 1, sizeof(*dev->pv.queue));
	if (!dev->pv.queue)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "PV: out of host memory");
	err = nvc0_bo_new(dev, PV_AREA_BYTES, &dev->pv.area);
	if (!err)
		err = nvc0_bo_map_bar1(&dev->pv.area);
	if (err)
		goto fail;
	pv_wr(dev, GPUVM_PV_AREA_LO, (uint32_t)dev->pv.area.phys);
	pv_wr(dev, GPUVM_PV_AREA_HI, (uint32_t)(dev->pv.area.phys >> 32));
	pv_wr(dev, GPUVM_PV_AREA_SIZE, PV_AREA_BYTES);
	pv_wr(dev, GPUVM_PV_FIRST, 0);
	if (pv_rd(dev, GPUVM_PV_AREA_SIZE) != PV_AREA_BYTES) {
		err = gpuvm_fail(GPUVM_ERR_DEVICE, "PV: the vGPU refused the request area (status %d)",
				 (int32_t)pv_rd(dev, GPUVM_PV_STATUS));
		goto fail;
	}
	dev->pv.area_ready = true;
	return GPUVM_OK;
fail:
	nvc0_bo_del(&dev->pv.area);
	free(dev->pv.queue);
	dev->pv.queue = NULL;
	return err;
}

void nvc0_pv_fini(struct gpuvm_device *dev)
{
	bool armed = dev->pv.area_ready;

	if (armed)
		nvc0_pv_send(dev);          /* deferred unmaps */
	/* From here the driver's own ops unmap the area from BAR1. */
	dev->pv.area_ready = false;
	dev->pv.mode = GPUVM_PV_MODE_FULL;
	if (armed)
		pv_wr(dev, GPUVM_PV_AREA_SIZE, 0);
	nvc0_bo_del(&dev->pv.area);
	free(dev->pv.queue);
	memset(&dev->pv, 0, sizeof(dev->pv));
}

/* The features that go with a mode; read again only when the mode changed. */
static void pv_read_mode(struct gpuvm_device *dev)
{
	uint32_t mode = pv_rd(dev, GPUVM_PV_MODE);

	if (mode == dev->pv.mode && dev->pv.area_ready)
		return;
	dev->pv.mode = mode;
	dev->pv.features = 0;
	dev->pv.max_batch = 0;
	if (mode == GPUVM_PV_MODE_FULL)
		return;
	dev->pv.max_batch = pv_rd(dev, GPUVM_PV_MAX_BATCH);
	dev->pv.features = dev->pv.max_batch ? pv_rd(dev, GPUVM_PV_FEATURES) : 0;
	if (!dev->pv.max_batch)
		dev->pv.mode = GPUVM_PV_MODE_FULL;
}

/*
 * With RUN, a switch away from pv shows in the next batch, refused with
 * -EPERM (full) or -EOPNOTSUPP (pv-naive): the address space a new context
 * asks for first is that batch, so the MODE read can wait until then.
 */
static bool mode_known(const struct gpuvm_device *dev)
{
	return dev->pv.area_ready && dev->pv.mode == GPUVM_PV_MODE_PV &&
	       (dev->pv.features & GPUVM_PV_F_RUN) && !nvc0_pv_refused_by_mode(dev->pv.last_status);
}

/* The mode now, for a new channel VM; GPUVM_PV_MODE_FULL without a PV page. */
uint32_t nvc0_pv_mode(struct gpuvm_device *dev)
{
	pv_probe(dev);
	if (!dev->pv.present)
		return GPUVM_PV_MODE_FULL;
	if (mode_known(dev))
		return dev->pv.mode;
	pv_read_mode(dev);
	if (dev->pv.mode == GPUVM_PV_MODE_FULL)
		return GPUVM_PV_MODE_FULL;
	return pv_area_init(dev) ? GPUVM_PV_MODE_FULL : dev->pv.mode;
}

bool nvc0_pv_has(struct gpuvm_device *dev, uint32_t feature)
{
	bool has;

	nvc0_lock(dev);
	has = dev->pv.area_ready && dev->pv.mode != GPUVM_PV_MODE_FULL && (dev->pv.features & feature);
	nvc0_unlock(dev);
	return has;
}

/*
 * In a pv mode a BAR1 range is one request whatever its page size, and
 * 4 KiB PTEs cost the daemon's BAR shadow one table page to re-translate
 * where a 128 KiB PTE costs a large table page (16384 BAR pages).
 */
unsigned nvc0_pv_bar1_shift(struct gpuvm_device *dev, unsigned page_shift)
{
	bool pv;

	nvc0_lock(dev);
	pv = dev->pv.area_ready && dev->pv.mode != GPUVM_PV_MODE_FULL;
	nvc0_unlock(dev);
	return pv ? NV_SPAGE_SHIFT : page_shift;
}

static const char *op_name(uint32_t op)
{
	static const char *const names[] = { "nop", "as-create", "as-destroy", "map", "unmap",
					     "flush", "chan-bind", "chan-unbind", "bar-map", "bar-unmap",
					     "submit" };

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

/* After STATUS said n > 0 entries failed: name the first. */
static int pv_report(struct gpuvm_device *dev, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		struct gpuvm_pv_req r;

		if (nvc0_bar1_read(dev, dev->pv.area.bar1 + (uint64_t)i * GPUVM_PV_REQ_SIZE, &r, sizeof(r)))
			break;
		if (r.status)
			return gpuvm_fail(r.status == -EBUSY ? GPUVM_ERR_BUSY : GPUVM_ERR_INVALID,
					  "PV %s refused: %s (va 0x%llx, size 0x%llx)", op_name(r.op),
					  strerror(-r.status), (unsigned long long)r.va,
					  (unsigned long long)r.size);
	}
	return gpuvm_fail(GPUVM_ERR_DEVICE, "PV: a request failed");
}

/* One trapped read: the daemon runs the entries still marked new, up to the terminator. */
static int32_t pv_ring_run(struct gpuvm_device *dev, unsigned n)
{
	size_t len = (size_t)n * GPUVM_PV_REQ_SIZE;
	int err;

	if (n < GPUVM_PV_BATCH_MAX) {
		dev->pv.queue[n] = (struct gpuvm_pv_req){ .op = GPUVM_PV_OP_NOP, .status = 0 };
		len += GPUVM_PV_REQ_SIZE;
	}
	err = pv_area_write(dev, dev->pv.queue, len);
	return err ? -EIO : (int32_t)pv_rd(dev, GPUVM_PV_RUN);
}

static int32_t pv_ring_doorbell(struct gpuvm_device *dev, unsigned n)
{
	int err = pv_area_write(dev, dev->pv.queue, (size_t)n * GPUVM_PV_REQ_SIZE);

	if (err)
		return -EIO;
	/* FIRST stays 0 (written once).  No BAR flush: the doorbell write is
	 * ordered after the entries, and the daemon reads them from VRAM. */
	pv_wr(dev, GPUVM_PV_DOORBELL, n);
	return (int32_t)pv_rd(dev, GPUVM_PV_STATUS);
}

int nvc0_pv_send(struct gpuvm_device *dev)
{
	unsigned n = dev->pv.queued;
	int32_t st;

	memset(dev->pv.mapping_lo, 0, sizeof(dev->pv.mapping_lo));
	memset(dev->pv.mapping_hi, 0, sizeof(dev->pv.mapping_hi));
	dev->pv.unbind_queued = false;
	if (!n)
		return GPUVM_OK;
	dev->pv.queued = 0;
	st = (dev->pv.features & GPUVM_PV_F_RUN) ? pv_ring_run(dev, n) : pv_ring_doorbell(dev, n);
	if (st == -EIO)
		return gpuvm_fail(GPUVM_ERR_DEVICE, "PV: cannot write the request area");
	dev->pv.last_status = st;
	dev->pv.doorbells++;
	dev->pv.requests += n;
	if (st < 0)
		return gpuvm_fail(GPUVM_ERR_DEVICE, "PV batch of %u refused: %s", n, strerror(-st));
	return st ? pv_report(dev, n) : GPUVM_OK;
}

static bool is_table_op(uint32_t op)
{
	return op == GPUVM_PV_OP_MAP || op == GPUVM_PV_OP_UNMAP || op == GPUVM_PV_OP_BAR_MAP ||
	       op == GPUVM_PV_OP_BAR_UNMAP || op == GPUVM_PV_OP_FLUSH;
}

/*
 * A FLUSH of a space makes an earlier queued FLUSH of it redundant when
 * only page-table requests lie between them: nothing can use the
 * translations before the later one runs (a bind, submission or destroy
 * would stand between).  Saves the daemon a TLB flush per range.
 */
static void drop_superseded_flush(struct gpuvm_device *dev, uint32_t handle)
{
	struct gpuvm_pv_req *q = dev->pv.queue;

	for (unsigned i = dev->pv.queued; i-- > 0 && is_table_op(q[i].op);) {
		if (q[i].op == GPUVM_PV_OP_FLUSH && q[i].handle == handle) {
			memmove(&q[i], &q[i + 1], (size_t)(dev->pv.queued - i - 1) * sizeof(*q));
			dev->pv.queued--;
			return;
		}
	}
}

int nvc0_pv_queue(struct gpuvm_device *dev, const struct gpuvm_pv_req *r)
{
	int err = GPUVM_OK;

	if (r->op == GPUVM_PV_OP_FLUSH)
		drop_superseded_flush(dev, r->handle);

	if (dev->pv.queued >= dev->pv.max_batch || dev->pv.queued >= GPUVM_PV_BATCH_MAX)
		err = nvc0_pv_send(dev);
	if (err)
		return err;
	dev->pv.queue[dev->pv.queued] = *r;
	dev->pv.queue[dev->pv.queued].status = GPUVM_PV_ST_NEW;
	dev->pv.queued++;
	return dev->pv.max_batch == 1 ? nvc0_pv_send(dev) : GPUVM_OK;
}

int nvc0_pv_call(struct gpuvm_device *dev, const struct gpuvm_pv_req *r, uint32_t *handle)
{
	unsigned at;
	int err = GPUVM_OK;

	if (dev->pv.queued >= dev->pv.max_batch || dev->pv.queued >= GPUVM_PV_BATCH_MAX)
		err = nvc0_pv_send(dev);
	if (err)
		return err;
	at = dev->pv.queued;            /* where r lands in the area */
	err = nvc0_pv_queue(dev, r);
	if (!err)
		err = nvc0_pv_send(dev);
	/* The daemon writes the handle back into the entry: no RESULT read. */
	if (!err && handle)
		err = nvc0_bar1_read(dev, dev->pv.area.bar1 + (uint64_t)at * GPUVM_PV_REQ_SIZE +
				     offsetof(struct gpuvm_pv_req, handle), handle, sizeof(*handle));
	return err;
}

void nvc0_pv_note_mapping(struct gpuvm_device *dev, unsigned bar, uint64_t off, uint64_t len)
{
	unsigned i = bar == 3;

	if (!dev->pv.queued)
		return;         /* sent already (pv-naive) */
	if (dev->pv.mapping_lo[i] == dev->pv.mapping_hi[i]) {
		dev->pv.mapping_lo[i] = off;
		dev->pv.mapping_hi[i] = off + len;
		return;
	}
	if (off < dev->pv.mapping_lo[i])
		dev->pv.mapping_lo[i] = off;
	if (off + len > dev->pv.mapping_hi[i])
		dev->pv.mapping_hi[i] = off + len;
}

static bool must_send_before(const struct gpuvm_device *dev, unsigned bar, uint64_t off, uint64_t len)
{
	unsigned i = bar == 3;

	if (dev->pv.unbind_queued)
		return true;
	if (bar != 1 && bar != 3)
		return false;
	return off < dev->pv.mapping_hi[i] && off + len > dev->pv.mapping_lo[i];
}

int nvc0_pv_bar_sync(struct gpuvm_device *dev, unsigned bar, uint64_t off, uint64_t len)
{
	int err = GPUVM_OK;

	nvc0_lock(dev);
	if (must_send_before(dev, bar, off, len))
		err = nvc0_pv_send(dev);
	nvc0_unlock(dev);
	return err;
}

bool nvc0_pv_switched(struct gpuvm_device *dev)
{
	bool switched;

	nvc0_lock(dev);
	switched = nvc0_pv_refused_by_mode(dev->pv.last_status);
	nvc0_unlock(dev);
	return switched;
}
