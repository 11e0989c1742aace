/* Hand-made policy state for unit tests (util_state.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util_state.h"

void st_setup(struct st *t, const struct sched_policy *p, unsigned n)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->s.policy = p;
	assert_true(n <= ST_MAX_VMS);
	assert_int_equal(p->init(&t->s), 0);
	for (unsigned i = 0; i < n; i++) {
		struct sched_vm *vm = &t->vm[i];

		vm->id = i + 1;
		snprintf(vm->name, sizeof(vm->name), "vm%u", i);
		vm->weight = SCHED_DEFAULT_WEIGHT;
		t->s.vms[t->s.n++] = vm;
		p->vm_added(&t->s, vm, 0);
	}
}

void st_teardown(struct st *t)
{
	t->p->fini(&t->s);
}

struct sched_vm *st_pick(struct st *t, uint64_t now, uint64_t *retry_at)
{
	uint64_t retry = 12345;
	struct sched_vm *vm = t->p->pick(&t->s, now, &retry);

	if (vm)
		assert_true(vm->queued > 0);
	if (retry_at)
		*retry_at = retry;
	return vm;
}

void st_release(struct st *t, struct sched_vm *vm, uint64_t now)
{
	assert_true(vm->queued > 0);
	vm->queued--;
	vm->in_flight++;
	if (t->s.running != vm) {
		t->s.running = vm;
		t->s.running_since = now;
	}
}

void st_complete(struct st *t, struct sched_vm *vm, uint64_t ns, uint64_t now)
{
	assert_true(vm->in_flight > 0);
	vm->in_flight--;
	vm->gpu_ns += ns;
	t->p->charge(&t->s, vm, ns, now);
	if (t->s.running == vm && !vm->in_flight && !vm->queued)
		t->s.running = NULL;
}

void st_remove(struct st *t, struct sched_vm *vm)
{
	t->p->vm_removed(&t->s, vm);
	for (unsigned i = 0; i < t->s.n; i++) {
		if (t->s.vms[i] == vm) {
			memmove(&t->s.vms[i], &t->s.vms[i + 1],
				(t->s.n - i - 1) * sizeof(t->s.vms[0]));
			t->s.n--;
			break;
		}
	}
	if (t->s.running == vm)
		t->s.running = NULL;
}
