package dev.kiln.nn;

import dev.kiln.io.FloatTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Fault injection for model-file writes through {@link ModelFile#beforeWrite}. */
final class ModelFileTestSupport {
    private ModelFileTestSupport() {}

    /** Tensors whose data iteration fails after {@code n} tensors, as a disk that fills up mid-write. */
    static UnaryOperator<Map<String, FloatTensor>> failingAfter(int n) {
        return tensors -> new AbstractMap<>() {
            @Override public Set<Entry<String, FloatTensor>> entrySet() { return tensors.entrySet(); }

            @Override public Collection<FloatTensor> values() {
                return new AbstractCollection<>() {
                    @Override public int size() { return tensors.size(); }

                    @Override public Iterator<FloatTensor> iterator() {
                        Iterator<FloatTensor> it = tensors.values().iterator();
                        return new Iterator<>() {
                            int given;

                            @Override public boolean hasNext() { return it.hasNext(); }

                            @Override public FloatTensor next() {
                                if (given++ == n) throw new UncheckedIOException(new IOException("No space left on device (injected)"));
                                return it.next();
                            }
                        };
                    }
                };
            }
        };
    }
}
