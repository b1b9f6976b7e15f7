"""CoGAN on the paper's digits / negative images task (configs/cogan.py with data.domain_b = negative).
python -m jaxgen.main --config=configs/cogan_negative.py --workdir=runs/cogan_negative
"""

from jaxgen.config import base_config


def get_config():
    return base_config("cogan", model={"width": 32}, data={"domain_b": "negative"}, train={"num_steps": 3000})
