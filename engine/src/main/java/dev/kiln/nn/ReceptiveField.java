package dev.kiln.nn;

/**
 * How much of the input one output position of a layer sees: {@code size}×{@code size} pixels,
 * its centres {@code jump} pixels apart. Stacked 3×3 convolutions give 3, 5, 7; pooling by 2
 * doubles the jump, so later layers grow faster.
 */
public record ReceptiveField(String layer, String type, int sizeH, int sizeW, int jumpH, int jumpW) {
    @Override public String toString() { return layer + " (" + type + "): " + sizeH + "x" + sizeW + ", stride " + jumpH + "x" + jumpW; }
}
