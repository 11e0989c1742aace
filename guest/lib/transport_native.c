/*
 * The native transport: gpusim in this process.  One gpusim per process,
 * shared by every open (reference counted), so that several contexts of one
 * process share one GPU as they would share a real board.  This is the
 * baseline every virtualisation overhead is measured against.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpusim.h"
#include "nvc0_driver.h"

struct native_transport {
	struct gpuvm_transport tp;
	struct gpusim *sim;
	struct gpu_hw *hw;
	struct gpusim_config cfg;
	int refs;
};

static pthread_mutex_t native_lock = PTHREAD_MUTEX_INITIALIZER;
static struct native_transport *native_shared;

static struct native_transport *native_of(struct gpuvm_transport *t)
{
	return (struct native_transport *)t;
}

static uint32_t native_rd32(struct gpuvm_transport *t, uint32_t reg)
{
	return gpu_rd32(native_of(t)->hw, reg);
}

static void native_wr32(struct gpuvm_transport *t, uint32_t reg, uint32_t val)
{
	gpu_wr32(native_of(t)->hw, reg, val);
}

static int native_bar_read(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			   void *buf, size_t len)
{
	return gpu_bar_read(native_of(t)->hw, (enum gpu_bar)bar, off, buf, len);
}

static int native_bar_write(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			    const void *buf, size_t len)
{
	return gpu_bar_write(native_of(t)->hw, (enum gpu_bar)bar, off, buf, len);
}

static uint64_t native_bar_size(struct gpuvm_transport *t, enum gpuvm_bar bar)
{
	struct gpu_hw *hw = native_of(t)->hw;

	return hw->ops->bar_size(hw, (enum gpu_bar)bar);
}

static int native_check(struct gpuvm_transport *t)
{
	GPUVM_UNUSED(t);
	return 0;
}

static void native_close(struct gpuvm_transport *t)
{
	struct native_transport *n = native_of(t);
	bool last;

	pthread_mutex_lock(&native_lock);
	last = --n->refs == 0;
	if (last)
		native_shared = NULL;
	pthread_mutex_unlock(&native_lock);
	if (!last)
		return;
	gpusim_destroy(n->sim);
	free(n);
}

/* gpusim offers calls only: no BAR mapping, and no PV channel. */
static const struct gpuvm_transport_ops native_ops = {
	.rd32 = native_rd32,
	.wr32 = native_wr32,
	.bar_read = native_bar_read,
	.bar_write = native_bar_write,
	.bar_size = native_bar_size,
	.bar_map = NULL,
	.pv_call = NULL,
	.check = native_check,
	.close = native_close,
};

/* "vram=256M,timeslice=500" -> a gpusim config, through gpusim's own parser. */
static int native_parse(const char *opts, struct gpusim_config *cfg)
{
	char spec[256], err[200];

	if (snprintf(spec, sizeof(spec), "sim%s%s", *opts ? "," : "", opts) >= (int)sizeof(spec))
		return gpuvm_fail(GPUVM_ERR_INVALID, "native device options too long");
	if (gpusim_parse_spec(spec, cfg, err, sizeof(err)))
		return gpuvm_fail(GPUVM_ERR_INVALID, "device 'native:%s': %s", opts, err);
	return GPUVM_OK;
}

/* An open with options must agree with the gpusim that already exists. */
static bool native_config_matches(const struct gpusim_config *have,
				  const struct gpusim_config *want)
{
	return (!want->vram_size || want->vram_size == have->vram_size) &&
	       (!want->timeslice_us || want->timeslice_us == have->timeslice_us);
}

static int native_create(const struct gpusim_config *cfg, struct native_transport **out)
{
	struct native_transport *n = calloc(1, sizeof(*n));

	if (!n)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "native transport: out of memory");
	n->sim = gpusim_create(cfg);
	if (!n->sim) {
		int e = errno;

		free(n);
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE, "native transport: gpusim_create failed: %s",
				  strerror(e));
	}
	n->hw = gpusim_hw(n->sim);
	/* Remember the effective sizes so that later opens compare like with like. */
	n->cfg = *cfg;
	if (!n->cfg.vram_size)
		n->cfg.vram_size = GPUSIM_DEFAULT_VRAM;
	if (!n->cfg.timeslice_us)
		n->cfg.timeslice_us = 1000;
	n->tp.ops = &native_ops;
	n->tp.kind = "native";
	snprintf(n->tp.id, sizeof(n->tp.id), "native");
	n->refs = 1;
	*out = n;
	return GPUVM_OK;
}

int gpuvm_transport_open_native(const char *opts, struct gpuvm_transport **out)
{
	struct gpusim_config cfg;
	int err = native_parse(opts, &cfg);

	if (err)
		return err;
	pthread_mutex_lock(&native_lock);
	if (native_shared) {
		if (!native_config_matches(&native_shared->cfg, &cfg)) {
			pthread_mutex_unlock(&native_lock);
			return gpuvm_fail(GPUVM_ERR_BUSY,
					  "device 'native:%s': this process's gpusim is already open "
					  "with vram=%lluM", opts,
					  (unsigned long long)(native_shared->cfg.vram_size >> 20));
		}
		native_shared->refs++;
	} else {
		err = native_create(&cfg, &native_shared);
	}
	if (!err)
		*out = &native_shared->tp;
	pthread_mutex_unlock(&native_lock);
	return err;
}

struct gpusim *gpuvm_transport_gpusim(struct gpuvm_transport *t)
{
	if (!t || t->ops != &native_ops)
		return NULL;
	return native_of(t)->sim;
}
