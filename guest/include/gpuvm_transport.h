/*
 * libgpuvm-guest transports: how the guest driver reaches a GPU.
 *
 * The driver speaks only registers and memory (BAR0, BAR1, BAR3).  A
 * transport carries those accesses to a GPU:
 *
 *   native          gpusim in this process (one per process, shared)
 *   local:NAME      a vGPU of gpuvmd through its shared-memory ioreq ring
 *   pci:SBDF        a vGPU seen as a PCI device inside a Xen domU (sysfs;
 *                   $GPUVM_PCI_SYSFS_ROOT replaces /sys/bus/pci/devices)
 *
 * A transport is chosen from a spec string (gpuvm_transport_open), so every
 * tool runs unchanged on any of them.  New kinds add one ops table and one
 * line in transport.c's table; the driver above does not change.
 */
#ifndef GPUVM_TRANSPORT_H
#define GPUVM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct gpuvm_transport;

/* BAR numbers, as on the PCI device. */
enum gpuvm_bar {
	GPUVM_BAR0 = 0,   /* registers */
	GPUVM_BAR1 = 1,   /* VRAM aperture through the BAR1 VM */
	GPUVM_BAR3 = 3,   /* kernel-object aperture through the BAR3 VM */
};

struct gpuvm_transport_ops {
	/*
	 * 32-bit register access.  A transport whose link died returns
	 * 0xffffffff from reads (as a surprise-removed PCI device does) and
	 * reports the loss through check().
	 */
	uint32_t (*rd32)(struct gpuvm_transport *t, uint32_t reg);
	void (*wr32)(struct gpuvm_transport *t, uint32_t reg, uint32_t val);
	/*
	 * len bytes at off in BAR1 or BAR3.  0, -EFAULT when part of the range
	 * is not mapped by the BAR's VM, -EINVAL for a range outside the BAR.
	 */
	int (*bar_read)(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			void *buf, size_t len);
	int (*bar_write)(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			 const void *buf, size_t len);
	uint64_t (*bar_size)(struct gpuvm_transport *t, enum gpuvm_bar bar);
	/*
	 * Optional: a host pointer onto [off, off + len) of a BAR, for
	 * transports that can map BAR pages (a domU's BAR1, the local backend's
	 * remapped BAR1).  NULL: use bar_read/bar_write.  May be NULL.
	 */
	void *(*bar_map)(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off, size_t len);
	/*
	 * Optional para-virtual request channel (pv modes): send req, receive
	 * resp.  Returns bytes of response or a negative errno.  NULL when the
	 * transport has none (native, full virtualisation).
	 */
	int (*pv_call)(struct gpuvm_transport *t, const void *req, size_t req_len,
		       void *resp, size_t resp_len);
	/* 0 while the link is up, else a negative errno (-EPIPE: peer gone). */
	int (*check)(struct gpuvm_transport *t);
	void (*close)(struct gpuvm_transport *t);
};

struct gpuvm_transport {
	const struct gpuvm_transport_ops *ops;
	const char *kind;     /* "native", "local", "pci" */
	/*
	 * Identity of the GPU behind the transport: two opens with the same id
	 * in one process reach the same GPU and share one driver instance.
	 */
	char id[64];
};

/* The spec used when the caller gives none: $GPUVM_DEVICE, else "native". */
const char *gpuvm_transport_default_spec(void);

/*
 * Open a transport from a spec: "native", "native:vram=256M[,timeslice=US]",
 * "local:NAME", "pci:DDDD:BB:DD.F".  NULL means the default spec.  Returns a
 * GPUVM_ERR_* code (gpuvm_guest.h) with a message in gpuvm_last_error();
 * unknown kinds and kinds not built yet fail with a clear message.
 */
int gpuvm_transport_open(const char *spec, struct gpuvm_transport **out);
void gpuvm_transport_close(struct gpuvm_transport *t);

/* Register and BAR access helpers. */
static inline uint32_t gpuvm_tp_rd32(struct gpuvm_transport *t, uint32_t reg)
{
	return t->ops->rd32(t, reg);
}

static inline void gpuvm_tp_wr32(struct gpuvm_transport *t, uint32_t reg, uint32_t val)
{
	t->ops->wr32(t, reg, val);
}

/*
 * The gpusim behind a native transport, or NULL for any other kind.  For
 * tests and benchmarks that want gpusim's statistics or audit oracle
 * (include/gpusim.h); never used by the driver itself.
 */
struct gpusim;
struct gpusim *gpuvm_transport_gpusim(struct gpuvm_transport *t);

#endif
