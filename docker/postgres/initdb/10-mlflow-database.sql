-- Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d), as
-- POSTGRES_USER: MLflow's backend store lives in its own database beside Relearn's.
-- On an existing volume, create it by hand: docker-compose exec postgres createdb -U relearn mlflow
CREATE DATABASE mlflow;
