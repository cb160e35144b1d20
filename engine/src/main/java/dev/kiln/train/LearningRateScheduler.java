package dev.kiln.train;

import java.util.function.DoubleBinaryOperator;

/**
 * Sets the learning rate at the start of each epoch from (epoch, current rate), as Keras's
 * LearningRateScheduler: {@code LearningRateScheduler.of((epoch, lr) -> epoch < 10 ? lr : lr * 0.9)}.
 */
public final class LearningRateScheduler implements Callback {
    private final DoubleBinaryOperator schedule;

    private LearningRateScheduler(DoubleBinaryOperator schedule) { this.schedule = schedule; }

    public static LearningRateScheduler of(DoubleBinaryOperator schedule) { return new LearningRateScheduler(schedule); }

    @Override public void onEpochBegin(TrainingState state, int epoch) { state.setLearningRate(schedule.applyAsDouble(epoch, state.learningRate())); }
}
