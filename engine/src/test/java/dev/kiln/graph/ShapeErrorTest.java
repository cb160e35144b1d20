package dev.kiln.graph;

import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;
import org.junit.jupiter.api.Test;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

/** Shape mismatches fail where the graph is built, naming both shapes, the op and the call site. */
class ShapeErrorTest {

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
    }

    @Test
    void addOfIncompatibleShapesNamesBothShapesTheOpAndTheCallSite() {
        Node a = input("a", Shape.of(2, 3)), b = input("b", Shape.of(4));
        var e = assertThrows(ShapeException.class, () -> add(a, b));
        assertMentions(e.getMessage(), "[2, 3]", "[4]", "add", "ShapeErrorTest.java:", "ShapeErrorTest", "addOfIncompatibleShapesNamesBothShapesTheOpAndTheCallSite");
    }

    @Test
    void matmulInnerMismatchNamesBothShapes() {
        Node a = input("a", Shape.of(3, 5)), b = input("b", Shape.of(4, 7));
        var e = assertThrows(ShapeException.class, () -> matmul(a, b));
        assertMentions(e.getMessage(), "[3, 5]", "[4, 7]", "matmul", "5 vs 4", "ShapeErrorTest", "matmulInnerMismatchNamesBothShapes");
    }

    @Test
    void conv2dChannelMismatchNamesChannelsAndFilter() {
        Node x = input("x", Shape.of(1, 8, 8, 3)), w = input("w", Shape.of(3, 3, 4, 16));
        var e = assertThrows(ShapeException.class, () -> conv2d(x, w, Conv2d.of(1, Padding.SAME)));
        assertMentions(e.getMessage(), "conv2d", "[1, 8, 8, 3]", "[3, 3, 4, 16]", "3 channels", "ShapeErrorTest", "conv2dChannelMismatchNamesChannelsAndFilter");
    }

    @Test
    void scopeNamesTheLayer() {
        Node a = input("a", Shape.of(2, 3)), b = input("b", Shape.of(4));
        try (var _ = Scope.enter("dense_2")) {
            var e = assertThrows(ShapeException.class, () -> mul(a, b));
            assertMentions(e.getMessage(), "in dense_2", "mul");
        }
    }
}
