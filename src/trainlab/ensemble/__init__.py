"""Many models at once: K members of one architecture trained as one batched computation
(stacked parameters, batched matmul), with a sequential fallback, and ensembles that combine them.

    from trainlab.ensemble import Ensemble, train_members
    members = train_members(spec, dataset, seeds=range(8))           # stacked when possible
    ens = Ensemble("weighted").fit(members.probabilities(dataset.val.x), dataset.val.y)
    ens.report(members.probabilities(dataset.test.x), dataset.test.y)  # members, mean ± std, ensemble
"""

from trainlab.ensemble.callbacks import MemberEarlyStopping, MemberGuard, MemberStats
from trainlab.ensemble.combine import COMBINES, Ensemble, member_curve, member_scores
from trainlab.ensemble.members import Members, to_probabilities, train_members
from trainlab.ensemble.sequential import SequentialTrainer
from trainlab.ensemble.stack import NotStackable, StackedModel, build_members, stackable
from trainlab.ensemble.stacked_trainer import DATA_ORDERS, HPARAMS, StackedTrainer
from trainlab.ensemble.sweeps import MEMBER_KEYS, sweep

__all__ = ["COMBINES", "DATA_ORDERS", "HPARAMS", "MEMBER_KEYS", "Ensemble", "MemberEarlyStopping",
           "MemberGuard", "MemberStats", "Members", "NotStackable", "SequentialTrainer", "StackedModel",
           "StackedTrainer", "build_members", "member_curve", "member_scores", "stackable", "sweep",
           "to_probabilities", "train_members"]
