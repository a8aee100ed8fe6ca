/* ctx.c - switching between stacks (see ctx.h). */
#include <stdint.h>
#include <string.h>

#include "proxy/ctx.h"

#if defined(__x86_64__)

/* proxy_ctx_swap(&from->sp, to->sp): pushes rbp, rbx, r12-r15 and an
 * 8-byte slot holding MXCSR and the x87 control word, stores the stack
 * pointer, loads the other one and pops the same in reverse. */
__asm__(".text\n"
	".p2align 4\n"
	".globl proxy_ctx_swap\n"
	".hidden proxy_ctx_swap\n"
	".type proxy_ctx_swap, @function\n"
	"proxy_ctx_swap:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size proxy_ctx_swap, .-proxy_ctx_swap\n");

__attribute__((visibility("hidden"))) void proxy_ctx_swap(void **from_sp, void *to_sp);

void proxy__ctx_make(struct proxy_ctx *to, char *stack, size_t size, void (*entry)(void))
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)top;
	uint32_t ctl[2];

	/* what the first switch pops: the control words (this thread's), six
	 * zeroed registers, then entry as the return address; entry starts
	 * with the stack as a call leaves it (8 mod 16), over a zero return
	 * address it never uses */
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(ctl[0]), "=m"(ctl[1]));
	ctl[1] &= 0xffff;
	*--sp = 0;
	*--sp = (uint64_t)(uintptr_t)entry;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	sp--;
	memcpy(sp, ctl, sizeof(ctl));
	to->sp = sp;
}

void proxy__ctx_switch(struct proxy_ctx *from, struct proxy_ctx *to)
{
	proxy_ctx_swap(&from->sp, to->sp);
}

#else

void proxy__ctx_make(struct proxy_ctx *to, char *stack, size_t size, void (*entry)(void))
{
	getcontext(&to->uc);
	to->uc.uc_stack.ss_sp = stack;
	to->uc.uc_stack.ss_size = size;
	to->uc.uc_link = NULL;
	makecontext(&to->uc, entry, 0);
}

void proxy__ctx_switch(struct proxy_ctx *from, struct proxy_ctx *to)
{
	swapcontext(&from->uc, &to->uc);
}

#endif
