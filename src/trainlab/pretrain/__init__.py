"""Pre-training: Restricted Boltzmann Machines and deep belief nets (the lecture's first answer
to "initialize the weights well", before Xavier and He).

    from trainlab.pretrain import RBM, DBN
    rbm = RBM(64, epochs=20, random_state=0).fit(X)      # X in [0, 1] (or visible="gaussian")
    dbn = DBN(hidden=[500, 500, 2000]).fit(X)
    net = dbn.to_network(n_outputs=10)                   # sigmoid MLP to fine-tune with the Trainer

Importing this package registers the ``dbn`` initializer (``init: {dbn: {epochs: 10}}`` in specs).
"""

from trainlab.pretrain.dbn import DBN
from trainlab.pretrain.energy import ais_log_z, exact_log_z, free_energy
from trainlab.pretrain.initializer import STACK_FILE, dbn_init_, load_stack
from trainlab.pretrain.rbm import RBM

__all__ = ["DBN", "RBM", "STACK_FILE", "ais_log_z", "dbn_init_", "exact_log_z", "free_energy", "load_stack"]
