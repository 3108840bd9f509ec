//! CDK's property tests (aws-cdk-lib/aws-autoscaling-common/test/intervals.test.ts and
//! aws-cdk-lib/aws-applicationautoscaling/test/step-scaling-policy.test.ts), run over
//! schedules from a port of CDK's `generateArbitraryIntervals`.

use super::*;

/// A small deterministic generator (xorshift64*) standing in for fast-check.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn boolean(&mut self) -> bool {
        self.next() >> 63 == 1
    }

    /// Inclusive at both ends, like fast-check's `nextInt(min, max)`.
    fn int(&mut self, min: usize, max: usize) -> usize {
        let width = u64::try_from(max - min + 1).expect("small range");
        min + usize::try_from(self.next() % width).expect("fits")
    }
}

/// CDK's `generateArbitraryIntervals` (aws-autoscaling-common/lib/test-utils.ts): start
/// from a full schedule, then drop or convert the no-change steps, maybe strip one half,
/// and drop bounds where a neighbour still supplies them. Where the original reassigns the
/// converted step only in its local copy, this one converts it in the schedule, which
/// also exercises schedules without a gap.
fn arbitrary_schedule(rng: &mut Rng) -> (AdjustmentType, Vec<StepInput>) {
    let absolute = rng.boolean();
    let factor = (if rng.boolean() { 1.0 } else { -1.0 }) * (if absolute { 10.0 } else { 1.0 });
    let bias = if absolute { 50.0 } else { 0.0 };
    let mut schedule = vec![
        between(0.0, 10.0, -2.0 * factor + bias),
        between(10.0, 20.0, -factor + bias),
        between(20.0, 60.0, bias),
        between(60.0, 80.0, bias),
        between(80.0, 90.0, factor + bias),
        between(90.0, INF, 2.0 * factor + bias),
    ];
    // Indices 2 and 3 are the no-change steps; decide about them, then apply.
    let (first, second) = if absolute {
        if rng.boolean() {
            (Some(None), Some(None))
        } else {
            (Some(Some(-factor + bias)), Some(Some(factor + bias)))
        }
    } else {
        let first = if rng.boolean() {
            Some(if rng.boolean() {
                None
            } else {
                Some(-factor + bias)
            })
        } else {
            None
        };
        let second = if rng.boolean() {
            Some(if rng.boolean() {
                None
            } else {
                Some(factor + bias)
            })
        } else {
            None
        };
        (first, second)
    };
    if let Some(Some(change)) = second {
        schedule[3].change = change;
    }
    if let Some(Some(change)) = first {
        schedule[2].change = change;
    }
    if second == Some(None) {
        schedule.remove(3);
    }
    if first == Some(None) {
        schedule.remove(2);
    }
    if rng.int(0, 2) == 0 {
        let strip_negative = rng.boolean();
        schedule.retain(|s| {
            let d = s.change - bias;
            if strip_negative { d >= 0.0 } else { d <= 0.0 }
        });
    }
    let iterations = rng.int(0, 10);
    for _ in 0..iterations {
        let i = rng.int(0, schedule.len() - 1);
        if rng.boolean() {
            if schedule[i].upper.is_some() && (i == 0 || schedule[i - 1].upper.is_some()) {
                schedule[i].lower = None;
            }
        } else if schedule[i].lower.is_some()
            && (i == schedule.len() - 1 || schedule[i + 1].lower.is_some())
        {
            schedule[i].upper = None;
        }
    }
    let adjustment = if absolute {
        AdjustmentType::ExactCapacity
    } else {
        AdjustmentType::ChangeInCapacity
    };
    (adjustment, schedule)
}

/// Runs `check` on many generated schedules, all of which must compile, and makes sure
/// the generated schedules cover every shape of gap for both kinds of adjustment.
fn for_generated_schedules(check: impl Fn(&[StepInput], &CompiledSteps)) {
    let mut shapes = std::collections::BTreeSet::new();
    for seed in 1..=2_000_u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let (adjustment, schedule) = arbitrary_schedule(&mut rng);
        let compiled = match compile(&schedule, adjustment) {
            Ok(compiled) => compiled,
            Err(errors) => panic!("seed {seed}: {schedule:?} failed: {errors:#?}"),
        };
        let count = compiled.intervals.len();
        let shape = match compiled.intervals.iter().position(|i| i.change.is_none()) {
            None => "no gap",
            Some(0) => "gap first",
            Some(g) if g + 1 == count => "gap last",
            Some(_) => "inner gap",
        };
        shapes.insert((adjustment.as_aws_str(), shape));
        check(&schedule, &compiled);
    }
    assert_eq!(shapes.len(), 8, "{shapes:?}");
}

// From 'lower alarm index is lower than higher alarm index' (property test).
#[test]
fn the_lower_alarm_interval_always_comes_before_the_upper_alarm_interval() {
    for_generated_schedules(|_, compiled| {
        if let (Some(lower), Some(upper)) = (&compiled.lower, &compiled.upper) {
            assert!(lower.threshold_interval < upper.threshold_interval);
        }
    });
}

// From 'never pick undefined intervals for relative alarms' (property test).
#[test]
fn alarms_are_never_anchored_on_the_no_action_gap() {
    for_generated_schedules(|_, compiled| {
        for policy in compiled.policies() {
            assert!(
                compiled.intervals[policy.threshold_interval]
                    .change
                    .is_some()
            );
        }
    });
}

// From 'pick intervals on either side of the undefined interval, if present'.
#[test]
fn alarms_sit_on_either_side_of_an_inner_gap() {
    for_generated_schedules(|_, compiled| {
        let count = compiled.intervals.len();
        let gap = compiled.intervals.iter().position(|i| i.change.is_none());
        if let Some(gap) = gap.filter(|g| *g > 0 && *g < count - 1) {
            assert_eq!(lower_policy(compiled).threshold_interval, gap - 1);
            assert_eq!(upper_policy(compiled).threshold_interval, gap + 1);
        }
    });
}

// From 'no picking upper bound infinity for lower alarm'.
#[test]
fn the_lower_alarm_threshold_is_never_infinite() {
    for_generated_schedules(|_, compiled| {
        if let Some(lower) = &compiled.lower {
            assert!(lower.threshold.is_finite());
        }
    });
}

// From 'no picking lower bound 0 for upper alarm'.
#[test]
fn the_upper_alarm_threshold_is_never_zero() {
    for_generated_schedules(|_, compiled| {
        if let Some(upper) = &compiled.upper {
            assert_ne!(upper.threshold, 0.0);
        }
    });
}

/// Both policies' adjustments in absolute metric values, unbounded ends as ∓∞
/// (the test file's `allStepsAbsolute`).
fn absolute_steps(compiled: &CompiledSteps) -> Vec<(f64, f64, i32)> {
    compiled
        .policies()
        .flat_map(|p| {
            p.adjustments.iter().map(move |a| {
                (
                    absolute(p.threshold, a.lower_bound, f64::NEG_INFINITY),
                    absolute(p.threshold, a.upper_bound, INF),
                    a.scaling_adjustment,
                )
            })
        })
        .collect()
}

// From 'alarm thresholds are valid numbers' (property test).
#[test]
fn alarm_thresholds_are_positive_finite_numbers() {
    for_generated_schedules(|_, compiled| {
        for policy in compiled.policies() {
            assert!(policy.threshold > 0.0 && policy.threshold.is_finite());
        }
    });
}

// From 'generated step intervals are valid intervals' (property test).
#[test]
fn every_generated_adjustment_starts_below_where_it_ends() {
    for_generated_schedules(|_, compiled| {
        for (lower, upper, _) in absolute_steps(compiled) {
            assert!(lower < upper, "{lower} .. {upper}");
        }
    });
}

// From 'generated step intervals are nonoverlapping' (property test).
#[test]
fn generated_adjustments_never_overlap_across_both_policies() {
    for_generated_schedules(|_, compiled| {
        let all = absolute_steps(compiled);
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(!(a.0 < b.1 && a.1 > b.0), "{a:?} overlaps {b:?}");
            }
        }
    });
}

// From 'all template intervals occur in input array' (property test).
#[test]
fn every_generated_adjustment_comes_from_an_input_step() {
    for_generated_schedules(|schedule, compiled| {
        for (lower, upper, change) in absolute_steps(compiled) {
            let lower_ok = |l: Option<f64>| {
                l.is_none()
                    || l == Some(if lower == f64::NEG_INFINITY {
                        0.0
                    } else {
                        lower
                    })
            };
            let upper_ok = |u: Option<f64>| u.is_none() || u == Some(upper);
            assert!(
                schedule
                    .iter()
                    .any(|s| lower_ok(s.lower) && upper_ok(s.upper)),
                "({lower}, {upper}, {change}) not in {schedule:?}"
            );
        }
    });
}

#[test]
fn generated_schedules_keep_every_given_bound_in_their_ranges() {
    for_generated_schedules(|schedule, compiled| {
        assert_eq!(compiled.ranges.len(), schedule.len());
        for (step, range) in schedule.iter().zip(&compiled.ranges) {
            assert!(step.lower.is_none_or(|l| l == range.lower), "{schedule:?}");
            assert!(step.upper.is_none_or(|u| u == range.upper), "{schedule:?}");
            assert!(range.lower <= range.upper, "{schedule:?}");
        }
    });
}
