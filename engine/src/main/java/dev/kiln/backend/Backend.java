package dev.kiln.backend;

import dev.kiln.compile.Compiler;
import dev.kiln.compile.Pass;
import dev.kiln.compile.Precision;
import dev.kiln.compile.Program;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * An execution target (CPU, CUDA). Found with {@link ServiceLoader}; {@link #auto()} picks the
 * usable one of highest priority and logs why the others were passed over. The system property
 * {@code kiln.backend} (e.g. {@code -Dkiln.backend=cpu}) forces one, and that is logged too.
 */
public interface Backend {
    String PROPERTY = "kiln.backend";

    /** "cpu", "cuda". */
    String name();

    /** Higher wins in {@link #auto()} when usable. */
    int priority();

    /** The checks that decide whether this backend can run here. */
    Availability availability();

    /**
     * Lowers a program to this backend's kernels. The executable owns its memory (on this backend's device) and
     * copies to or from the host only at the points {@link Executable} names; this is the path training and
     * prediction take.
     */
    Executable compile(Program program);

    /**
     * The precision a model gets when compile names none: exact {@link Precision#F32} here (the CPU has no TF32,
     * and emulating it would only cost time); a GPU backend answers {@link Precision#TF32}, as TensorFlow does for every f32 product and PyTorch for
     * convolutions, on Ampere and later.
     */
    default Precision defaultPrecision() { return Precision.F32; }

    /**
     * The compiler passes for this backend's programs: {@link Compiler#defaultPasses()}, which expand fused training ops
     * ({@link dev.kiln.graph.BatchNormGrad}) into the primitives they stand for; a backend that lowers them as one
     * kernel answers {@link Compiler#fusedPasses()}.
     */
    default List<Pass> passes() { return Compiler.defaultPasses(); }

    /**
     * The host eager path ({@code dev.kiln.eager}): evaluates one node from its inputs' values with the same
     * kernels the compiled path uses. Every argument is a host array: {@code inputs[i]} holds input i's value and
     * {@code out} receives the result ({@code null} for an in-place update, which writes its variables' host
     * arrays). A device backend copies the inputs in and the result out on every call, so this path is for
     * convenience and tests, not speed; keep data on the device by compiling a program instead.
     */
    void evaluate(Node node, float[][] inputs, float[] out);

    /** Every backend on the class path, usable or not. */
    static List<Backend> all() {
        List<Backend> list = new ArrayList<>();
        for (Backend b : ServiceLoader.load(Backend.class)) list.add(b);
        list.sort(Comparator.comparingInt(Backend::priority).reversed());
        return list;
    }

    /** The backend named {@code name}, or an error listing those found. */
    static Backend named(String name) {
        List<String> names = new ArrayList<>();
        for (Backend b : all()) {
            if (b.name().equals(name)) {
                Availability a = b.availability();
                if (!a.usable()) throw new IllegalStateException("backend '" + name + "' is not usable here: " + a.summary() + " " + a.checks());
                return b;
            }
            names.add(b.name());
        }
        throw new IllegalStateException("no backend named '" + name + "'; found " + names + " (is kiln-cpu on the class path?)");
    }

    /**
     * The best usable backend, honouring {@code -Dkiln.backend}. A backend whose device is here but that cannot
     * run (a GPU without libcudnn) is reported once, as a WARNING naming the missing piece and its fix; see
     * {@link Availability}.
     */
    static Backend auto() { return BackendChoice.auto(); }
}
