package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Only loaded when the incubator module is present (see {@link VectorProbe}). */
final class VectorSpeciesInfo {
    private VectorSpeciesInfo() {}

    static String describe() {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        return "preferred species " + s.vectorBitSize() + "-bit, " + s.length() + " float lanes";
    }
}
