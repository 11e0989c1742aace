/*
 * One guest access to a vGPU BAR, as every trap backend hands it to the
 * vGPU: the backend decodes its own request format (Xen's struct ioreq, the
 * local backend's shared page) into this and copies the result back.
 */
#ifndef VGPU_IO_H
#define VGPU_IO_H

#include <stdint.h>

enum vgpu_io_dir {
	VGPU_IO_WRITE = 0,
	VGPU_IO_READ = 1,
};

struct vgpu_io {
	uint8_t bar;        /* 0, 1 or 3 (and the PV BAR later) */
	uint8_t dir;        /* enum vgpu_io_dir */
	uint8_t size;       /* 1, 2, 4 or 8 bytes */
	uint64_t offset;    /* within the BAR */
	uint64_t data;      /* written value, or the value read */
};

#endif
