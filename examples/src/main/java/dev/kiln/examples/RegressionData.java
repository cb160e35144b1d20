package dev.kiln.examples;

import dev.kiln.data.CourseData;
import dev.kiln.data.Csv;
import dev.kiln.data.CsvSpec;
import dev.kiln.data.Dataset;
import dev.kiln.data.MissingPolicy;
import dev.kiln.tensor.Shape;

import java.io.IOException;

/**
 * A regression CSV of the course (CourseData), split (seeded), features standardised and the target
 * standardised too ({@code (y - mean) / std}, train statistics), so one learning rate suits every
 * data set. Errors in the target's units are the standardised ones times {@code std}.
 */
record RegressionData(Dataset train, Dataset validation, double mean, double std, int features) {

    static RegressionData load(String csv, String target, double validationFraction, long seed, String... drop) throws IOException {
        CsvSpec.CsvData d = CsvSpec.of().withTarget(target).withDrop(drop).withMissing(MissingPolicy.DROP_ROWS)
                .load(Csv.read(CourseData.csv(csv)), validationFraction, seed);
        float[] y = d.train().labels();
        double sum = 0, sq = 0;
        for (float v : y) sum += v;
        double mean = sum / y.length;
        for (float v : y) sq += (v - mean) * (v - mean);
        double std = Math.sqrt(sq / y.length);
        return new RegressionData(scaled(d.train(), mean, std), scaled(d.validation(), mean, std), mean, std, d.train().featuresPerExample());
    }

    private static Dataset scaled(Dataset d, double mean, double std) {
        float[] y = d.labels();
        for (int i = 0; i < y.length; i++) y[i] = (float) ((y[i] - mean) / std);
        return Dataset.of(d.features(), d.featureShape(), y, Shape.of(d.size(), 1));
    }

    /** Validation MAE, in the target's units, of always predicting the training mean: the bar a model must beat. */
    double meanBaselineMae() {
        double s = 0;
        for (int i = 0; i < validation.size(); i++) s += Math.abs(validation.label(i));
        return s / validation.size() * std;
    }
}
