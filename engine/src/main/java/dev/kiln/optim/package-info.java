/**
 * Optimizers: each turns gradients into in-place update effects in the step graph.
 *
 * <h2>One skeleton</h2>
 * {@link dev.kiln.optim.AbstractOptimizer} holds what every optimizer shares — the learning-rate check,
 * gradient clipping and its withers ({@code clipNorm}, {@code clipValue}), the slot table and the loop over
 * parameters. An optimizer writes its hyper-parameter withers and one method, {@code update}: one
 * parameter's step as effects, its state read through {@code slot(param, "suffix")}.
 *
 * <h2>Fused op or composed of ops: the rule</h2>
 * An update is <b>composed of existing ops</b> (elementwise ops and {@code assign}, as
 * {@link dev.kiln.optim.RMSprop} and {@link dev.kiln.optim.GradientClipping} are) unless all three hold:
 * <ol>
 *   <li>it runs in a benchmarked model's step (M1–M4 train with Adam);</li>
 *   <li>the composed form measurably costs more there — it reads and writes the parameter, the gradient and
 *       each slot once per op instead of once for the whole update (Adam composed is about a dozen passes
 *       over every weight, fused one), and elementwise fusion cannot join it because it writes several
 *       variables;</li>
 *   <li>someone owns the extra places a fused op lives: the op record in {@code dev.kiln.graph} with its one
 *       scalar meaning ({@code AdamUpdate.step}, which the interpreter and the CPU scalar twin both call), the
 *       CPU vector kernel (tested bit for bit against that meaning, {@code RowKernelsTest}) and the CUDA kernel
 *       (tested against it on the emulated device, {@code ElementwiseKernelsTest}). Those three are the only
 *       places the formula is written; a fourth copy is a bug. {@code SgdUpdate.step} is the same for SGD.</li>
 * </ol>
 * Today {@code AdamUpdate} and {@code SgdUpdate} are fused; RMSprop and clipping are composed, and a new
 * optimizer starts composed: it then runs on every backend with no kernel to write, and is fused later only
 * when a measurement asks for it.
 *
 * <h2>Conditional updates</h2>
 * {@code updates(params, grads, lr, step, apply)} makes every effect conditional on a scalar flag, computed in the
 * graph (dynamic loss scaling's "all gradients finite", {@code dev.kiln.nn.LossScale}): where it is 0 nothing is
 * written. A fused op takes the flag as its last input ({@code AdamUpdate.onlyIfFlagged()}; each backend's kernel
 * returns at once on a 0 flag); a composed update writes {@code where(apply, new, old)} ({@code assignIf}).
 */
package dev.kiln.optim;
