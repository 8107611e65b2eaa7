ALTER TABLE "calls" DROP CONSTRAINT "calls_org_id_orgs_id_fk";
