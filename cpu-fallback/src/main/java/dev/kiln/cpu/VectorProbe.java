package dev.kiln.cpu;

/**
 * Describes the preferred float vector species without linking jdk.incubator.vector unless it is
 * loaded (the scalar path must run on a JVM without the module).
 */
final class VectorProbe {
    private VectorProbe() {}

    static boolean vectorModuleLoaded() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** "FloatVector species 512-bit, 16 lanes" or why not. */
    static String describe() {
        if (!vectorModuleLoaded()) return "jdk.incubator.vector not loaded";
        return VectorSpeciesInfo.describe();
    }
}
