/*
 * Transport selection: parse a device spec and open the matching transport.
 * Adding a kind (the local ioreq ring, PV, a domU's PCI device) adds one
 * line to transport_kinds[]; nothing above the transport changes.
 */
#include <stdlib.h>
#include <string.h>

#include "nvc0_driver.h"

struct transport_kind {
	const char *name;
	/* NULL: recognised but not built in this library yet. */
	int (*open)(const char *opts, struct gpuvm_transport **out);
	const char *usage;
	const char *missing;    /* why it is not available */
};

int gpuvm_transport_open_local(const char *opts, struct gpuvm_transport **out);  /* transport_local.c */
int gpuvm_transport_open_pci(const char *opts, struct gpuvm_transport **out);    /* transport_pci.c */

static const struct transport_kind transport_kinds[] = {
	{ "native", gpuvm_transport_open_native, "native[:vram=SIZE][,timeslice=US]", NULL },
	{ "local", gpuvm_transport_open_local, "local:NAME[@SOCKET]", NULL },
	{ "pci", gpuvm_transport_open_pci, "pci:DDDD:BB:DD.F", NULL },
};

#define N_KINDS (sizeof(transport_kinds) / sizeof(transport_kinds[0]))

const char *gpuvm_transport_default_spec(void)
{
	const char *env = getenv("GPUVM_DEVICE");

	return env && *env ? env : "native";
}

static const struct transport_kind *transport_kind_find(const char *spec, size_t len)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (strlen(transport_kinds[i].name) == len &&
		    !strncmp(transport_kinds[i].name, spec, len))
			return &transport_kinds[i];
	return NULL;
}

static int transport_unknown(const char *spec)
{
	return gpuvm_fail(GPUVM_ERR_INVALID,
			  "unknown device '%s' (expected native[:vram=SIZE], local:NAME or "
			  "pci:DDDD:BB:DD.F)", spec);
}

int gpuvm_transport_open(const char *spec, struct gpuvm_transport **out)
{
	const struct transport_kind *kind;
	const char *colon;
	size_t kind_len;

	if (!out)
		return gpuvm_fail(GPUVM_ERR_INVALID, "transport open: NULL result pointer");
	*out = NULL;
	if (!spec)
		spec = gpuvm_transport_default_spec();
	colon = strchr(spec, ':');
	kind_len = colon ? (size_t)(colon - spec) : strlen(spec);
	kind = transport_kind_find(spec, kind_len);
	if (!kind)
		return transport_unknown(spec);
	if (!kind->open)
		return gpuvm_fail(GPUVM_ERR_UNSUPPORTED, "device '%s': transport '%s' %s",
				  spec, kind->name, kind->missing);
	if (colon && kind->open != gpuvm_transport_open_native && !colon[1])
		return gpuvm_fail(GPUVM_ERR_INVALID, "device '%s': expected %s", spec, kind->usage);
	return kind->open(colon ? colon + 1 : "", out);
}

void gpuvm_transport_close(struct gpuvm_transport *t)
{
	if (t)
		t->ops->close(t);
}
