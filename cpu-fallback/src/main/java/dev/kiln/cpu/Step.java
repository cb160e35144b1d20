package dev.kiln.cpu;

/** One pre-bound kernel call of a compiled program: every array, offset and plan is fixed at compile time. */
interface Step {
    void run();
}
